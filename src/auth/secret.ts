import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { checkSecret } from '../config.js';

export const SECRET_FILE = 'jwt-secret';

/**
 * The JWT secret when JWT_SECRET is unset: generated once (256 random bits),
 * kept in the data directory readable by this user only, and reused so that
 * tokens survive a restart.
 */
export function loadOrCreateSecret(dataDir: string): { secret: string; created: boolean; file: string } {
  const file = path.join(dataDir, SECRET_FILE);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists, so two processes starting together keep one secret.
    fs.writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
    return { secret: readSecret(file), created: true, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { secret: readSecret(file), created: false, file };
  }
}

function readSecret(file: string): string {
  const secret = checkSecret(fs.readFileSync(file, 'utf8').trim());
  if (secret === undefined) throw new Error(`${file} is empty; delete it to have a new secret generated`);
  return secret;
}
