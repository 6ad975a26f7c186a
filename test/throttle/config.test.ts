import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

const load = (env: Record<string, string>) =>
  loadConfig({ DATABASE_URL: 'sqlite::memory:', ...env }).throttle;

test('login limits: 5 per username and client per 15 min, 20 per client, 100 per username per hour', () => {
  const throttle = load({});
  assert.equal(throttle.loginFailuresPerUserAndIp, 5);
  assert.equal(throttle.loginFailuresPerIp, 20);
  assert.equal(throttle.loginWindow, 15 * 60);
  assert.equal(throttle.loginFailuresPerAccount, 100);
  assert.equal(throttle.loginAccountWindow, 60 * 60);
});

test('an account ceiling one client could reach alone is refused at start', () => {
  // 5 per 15 min: up to 25 from one client within an hour (4 windows, and one straddling the start).
  assert.throws(() => load({ LOGIN_ACCOUNT_MAX_FAILURES: '25' }), ConfigError);
  assert.equal(load({ LOGIN_ACCOUNT_MAX_FAILURES: '26' }).loginFailuresPerAccount, 26);
  assert.throws(() => load({ LOGIN_ACCOUNT_MAX_FAILURES: '50', LOGIN_WINDOW: '5m' }), /above 65/);
  assert.throws(() => load({ LOGIN_ACCOUNT_MAX_FAILURES: '0' }), ConfigError);
});

test('raising the per-client limit raises the default account ceiling with it', () => {
  assert.equal(load({ LOGIN_MAX_FAILURES: '1000' }).loginFailuresPerAccount, 5001);
  assert.equal(load({ LOGIN_ACCOUNT_WINDOW: '10m' }).loginFailuresPerAccount, 100);
});
