import net from 'node:net';
import ipaddr from 'ipaddr.js';

const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;

/**
 * One key per client, however its address is written: a port is dropped
 * (`203.0.113.7:4711`, `[::1]:80`), an IPv4-mapped IPv6 address is the IPv4
 * address it carries (`::ffff:203.0.113.7`, the socket's form on a dual-stack
 * listener), and IPv6 addresses are grouped by /64, the block a single
 * subscriber gets (RFC 6177), so rotating through it gains nothing.
 * A value that is no IP address at all (a proxy's oddity) is its own key.
 */
export function clientKey(address: string): string {
  const host = (BRACKETED.exec(address)?.[1] ?? IPV4_WITH_PORT.exec(address)?.[1] ?? address).replace(
    /%.*$/,
    '',
  );
  // node:net is strict where ipaddr.js is lenient (it reads `1.2.3` or octal `010.0.0.1` as addresses).
  if (net.isIP(host) === 0) return `?${address}`;
  const ip = ipaddr.process(host);
  if (ip.kind() === 'ipv4') return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}
