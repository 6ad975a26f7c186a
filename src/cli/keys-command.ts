import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { Command } from 'commander';
import { loadKeyRing } from '../auth/keys.js';
import { loadConfig } from '../config.js';
import { examples } from './examples.js';
import { UsageError } from './run.js';

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('the signing key ring (EdDSA or ES256 JWKs)')
    .addHelpText(
      'after',
      examples('bookapi keys generate --file keys.json', 'bookapi keys list --file keys.json'),
    );

  keys
    .command('generate')
    .description(
      'add a new signing key, first in the file: it signs from the next start, older keys keep verifying',
    )
    .requiredOption('-f, --file <path>', 'the JWK Set file (created if missing, mode 0600)')
    .option('-a, --alg <alg>', 'EdDSA or ES256', 'EdDSA')
    .addHelpText(
      'after',
      `
Examples:
  $ bookapi keys generate --file data/jwt-keys.json
  $ JWT_KEYS_FILE=data/jwt-keys.json bookapi serve`,
    )
    .action((options: { file: string; alg: string }) => {
      const { file, alg } = options;
      if (alg !== 'EdDSA' && alg !== 'ES256') throw new UsageError('--alg must be EdDSA or ES256');
      const { privateKey } =
        alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const kid = `${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
      const key = { ...privateKey.export({ format: 'jwk' }), kid, alg };
      const existing = readRing(file);
      fs.writeFileSync(file, `${JSON.stringify({ keys: [key, ...existing] }, null, 2)}\n`, { mode: 0o600 });
      console.log(
        `added ${alg} key ${kid} to ${file}; it signs from the next start (${existing.length} older kept)`,
      );
    });

  keys
    .command('list')
    .description('list the keys of the ring: which one signs, which only verify')
    .option('-f, --file <path>', 'the JWK Set file (default: JWT_KEYS_FILE or JWT_KEYS)')
    .addHelpText('after', examples('bookapi keys list', 'bookapi keys list --file /etc/bookapi/keys.json'))
    .action((options: { file?: string }) => {
      if (options.file && !fs.existsSync(options.file))
        throw new UsageError(`${options.file} does not exist`);
      const jwks = options.file ? readRing(options.file) : [...loadConfig().jwtKeys];
      if (jwks.length === 0) {
        console.log('no key ring: tokens are HS256 with JWT_SECRET (or the generated secret in DATA_DIR)');
        return;
      }
      loadKeyRing(jwks as Parameters<typeof loadKeyRing>[0]).forEach((k, i) => {
        console.log(`${i === 0 ? 'signs  ' : 'verifies'}  ${k.alg.padEnd(6)} ${k.kid}`);
      });
    });
}

function readRing(file: string): object[] {
  if (!fs.existsSync(file)) return [];
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
    return parsed.keys as object[];
  } catch (error) {
    throw new UsageError(`${file} is not a JWK Set: ${(error as Error).message}`);
  }
}
