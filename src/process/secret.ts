import { loadOrCreateSecret } from '../auth/secret.js';
import type { Config } from '../config.js';

export interface ResolvedSecret {
  config: Config & { jwtSecret: string };
  /** Where the generated secret lives, when JWT_SECRET is unset. */
  file?: string;
  /** True only on the start that generated it. */
  created: boolean;
}

/** JWT_SECRET, or the secret generated once and kept in DATA_DIR. */
export function resolveSecret(config: Config): ResolvedSecret {
  if (config.jwtSecret !== undefined)
    return { config: { ...config, jwtSecret: config.jwtSecret }, created: false };
  const { secret, created, file } = loadOrCreateSecret(config.dataDir);
  return { config: { ...config, jwtSecret: secret }, file, created };
}
