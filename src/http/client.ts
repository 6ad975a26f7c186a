import net from 'node:net';
import type { FastifyRequest } from 'fastify';

/** What the devices list and the audit log record about a request's client. */
export interface ClientInfo {
  /** The address the throttle sees (X-Forwarded-For only from TRUST_PROXY), without port or ::ffff:. */
  readonly ip: string;
  readonly userAgent: string | null;
}

/** Longer User-Agents are cut: a client chooses it, and it is shown back to people. */
const MAX_USER_AGENT = 256;
const MAX_IP = 64;

export function clientOf(req: FastifyRequest): ClientInfo {
  const agent = req.headers['user-agent'];
  return {
    ip: displayAddress(req.ip),
    // Control characters (a terminal's escapes) never reach a log line or a page.
    userAgent:
      typeof agent === 'string' && agent !== ''
        ? agent.replace(/[\p{Cc}\p{Cf}]/gu, '').slice(0, MAX_USER_AGENT) || null
        : null,
  };
}

function displayAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1];
  if (mapped !== undefined) return mapped;
  return net.isIP(address) === 0 ? address.replace(/[\p{Cc}\p{Cf}]/gu, '').slice(0, MAX_IP) : address;
}
