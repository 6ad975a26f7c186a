import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { lockActiveAdmins } from './repository.js';

/**
 * Refuses (409) a change that would leave no active admin — a demotion, a
 * disabling or a deletion — so the API can never lock its operators out.
 * Call it inside the transaction that makes the change.
 */
export async function keepOneAdmin(trx: Db, losing: number): Promise<void> {
  const admins = await lockActiveAdmins(trx);
  if (admins.every((id) => id === losing)) throw errors.lastAdmin();
}
