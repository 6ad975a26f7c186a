import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';

/**
 * Generates a signing key and puts it first in a JWK Set file, so it signs
 * from the next start while the older keys keep verifying:
 *   npm run keys:generate -- --file data/jwt-keys.json [--alg EdDSA|ES256]
 * Then start with JWT_KEYS_FILE=data/jwt-keys.json.
 */
function main(): void {
  const { values } = parseArgs({
    options: { file: { type: 'string' }, alg: { type: 'string', default: 'EdDSA' } },
    strict: true,
  });
  const { file, alg } = values;
  if (!file) throw new ConfigError('usage: npm run keys:generate -- --file PATH [--alg EdDSA|ES256]');
  if (alg !== 'EdDSA' && alg !== 'ES256') throw new ConfigError('--alg must be EdDSA or ES256');
  const { privateKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const key = { ...privateKey.export({ format: 'jwk' }), kid, alg };
  const existing: { keys: unknown[] } = fs.existsSync(file)
    ? JSON.parse(fs.readFileSync(file, 'utf8'))
    : { keys: [] };
  fs.writeFileSync(file, `${JSON.stringify({ keys: [key, ...existing.keys] }, null, 2)}\n`, { mode: 0o600 });
  console.log(
    `added ${alg} key ${kid} to ${file}; it signs from the next start (${existing.keys.length} older kept)`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`bookapi: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
