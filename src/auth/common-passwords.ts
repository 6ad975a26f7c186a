import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * The ~49,000 most common passwords from zxcvbn-ts's maintained list
 * (NIST SP 800-63B §5.1.1.2: refuse passwords known to be commonly used).
 * Compared case-insensitively: "Password123" is as guessable as "password123".
 */
const common = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

export function isCommonPassword(password: string): boolean {
  return common.has(password.toLowerCase());
}
