import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientKey } from '../../src/throttle/client-ip.js';

test('an IPv4 client is one key with or without a port, plain or IPv4-mapped, bracketed or not', () => {
  for (const spelling of [
    '203.0.113.7',
    '203.0.113.7:4711',
    '::ffff:203.0.113.7',
    '::FFFF:203.0.113.7',
    '::ffff:cb00:7107',
    '[::ffff:203.0.113.7]',
    '[::ffff:203.0.113.7]:80',
  ])
    assert.equal(clientKey(spelling), '203.0.113.7', spelling);
  assert.notEqual(clientKey('203.0.113.8'), clientKey('203.0.113.7'));
});

test('IPv6 clients are grouped by /64, whatever the spelling, port or zone', () => {
  const key = clientKey('2001:db8:1:2::1');
  for (const spelling of [
    '2001:db8:1:2:abcd:ef01:2345:6789',
    '2001:0DB8:0001:0002:0000:0000:0000:0001',
    '[2001:db8:1:2::ffff]:443',
    '2001:db8:1:2::7%eth0',
  ])
    assert.equal(clientKey(spelling), key, spelling);
  assert.notEqual(clientKey('2001:db8:1:3::1'), key, 'the neighbouring /64');
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:0:1:2::1'));
});

test('what is not an IP address is a key of its own, never read leniently', () => {
  // ipaddr.js alone would read these as 1.2.0.3 and 8.0.0.1.
  assert.equal(clientKey('1.2.3'), '?1.2.3');
  assert.equal(clientKey('010.0.0.1'), '?010.0.0.1');
  assert.notEqual(clientKey('010.0.0.1'), clientKey('8.0.0.1'));
  assert.equal(clientKey('unknown'), '?unknown');
  assert.equal(clientKey(''), '?');
});
