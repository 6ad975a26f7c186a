import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, checkSecret } from '../config.js';

export const SECRET_FILE = 'jwt-secret';

/**
 * The JWT secret when JWT_SECRET is unset: generated once (256 random bits),
 * kept in the data directory readable by this user only, and reused so that
 * tokens survive a restart.
 */
export function loadOrCreateSecret(dataDir: string): { secret: string; created: boolean; file: string } {
  const file = path.join(dataDir, SECRET_FILE);
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    // 'wx' fails if the file exists, so two processes starting together keep one secret.
    fs.writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
    return { secret: readSecret(file), created: true, file };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return { secret: readSecret(file), created: false, file };
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR') {
      throw new ConfigError(
        `cannot write the generated JWT secret to ${file} (${code}): set DATA_DIR to a directory this user can write, or set JWT_SECRET`,
      );
    }
    throw error;
  }
}

function readSecret(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(
      `cannot read the JWT secret in ${file} (${(error as NodeJS.ErrnoException).code}): fix its permissions, set DATA_DIR elsewhere, or set JWT_SECRET`,
    );
  }
  if (text === '') throw new ConfigError(`${file} is empty; delete it to have a new secret generated`);
  return checkSecret(text, `the secret in ${file}`) as string;
}
