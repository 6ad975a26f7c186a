import { isCommonPassword } from './common-passwords.js';
import { PASSWORD } from './schemas.js';

/**
 * Why a new password is refused, or undefined: the rule signup applies
 * (8–128 characters, not one of the common ones), for every other way an
 * account gets a password — `bookapi admin create` and ADMIN_PASSWORD.
 */
export function newPasswordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD.minLength || length > PASSWORD.maxLength)
    return `must be ${PASSWORD.minLength}-${PASSWORD.maxLength} characters`;
  if (isCommonPassword(password)) return 'is too common; choose another one';
  return undefined;
}
