import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { errors } from '../errors.js';
import { type Reply, type Req, route } from '../http/route.js';
import { findCredentials, insertUser, updatePasswordHash } from '../users/repository.js';
import { publicRoute } from './decorators.js';
import { getDummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { LoginSchema, SignupSchema } from './schemas.js';
import type { Tokens } from './tokens.js';

export class AuthRoutes {
  constructor(private readonly deps: { db: Db; tokens: Tokens; clock: Clock }) {}

  @route({ method: 'POST', url: '/signup', schema: SignupSchema })
  @publicRoute
  async signup(req: Req<typeof SignupSchema>, reply: Reply<typeof SignupSchema>) {
    const { username, password } = req.body;
    const passwordHash = await hashPassword(password);
    try {
      await insertUser(this.deps.db, {
        publicId: randomUUID(),
        username,
        passwordHash,
        createdAt: new Date(this.deps.clock.now()).toISOString(),
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw errors.userExists();
      throw error;
    }
    return reply.code(201).send({ message: 'registered successfully' });
  }

  @route({ method: 'POST', url: '/login', schema: LoginSchema, invalidInput: errors.invalidCredentials })
  @publicRoute
  async login(req: Req<typeof LoginSchema>, reply: Reply<typeof LoginSchema>) {
    const { username, password } = req.body;
    const found = await findCredentials(this.deps.db, username);
    // Unknown users pay for a verify too, so timing does not tell them apart.
    const valid = await verifyPassword(found?.passwordHash ?? (await getDummyHash()), password);
    if (!found || !valid) throw errors.invalidCredentials();
    if (needsRehash(found.passwordHash)) {
      // The password is in hand only now: upgrade a hash made with older, weaker parameters.
      await updatePasswordHash(this.deps.db, found.user.id, await hashPassword(password));
    }
    const { token, expiresIn } = this.deps.tokens.issue(found.user.publicId);
    return reply.code(201).send({ token, token_type: 'Bearer', expires_in: expiresIn });
  }
}
