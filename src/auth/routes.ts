import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { ApiError, errors } from '../errors.js';
import { type Reply, type Req, route } from '../http/route.js';
import { revokeSession, revokeUserSessions } from '../sessions/repository.js';
import type { Throttle } from '../throttle/throttle.js';
import { findCredentials, findUsernameClash, insertUser, replacePasswordHash } from '../users/repository.js';
import type { AuthUser } from '../users/user.js';
import { checkUsername } from '../users/username.js';
import { isCommonPassword } from './common-passwords.js';
import { publicRoute, tokenRequired } from './decorators.js';
import type { RingKey } from './keys.js';
import { getDummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import {
  JwksSchema,
  LoginSchema,
  LogoutAllSchema,
  LogoutSchema,
  RefreshSchema,
  SignupSchema,
} from './schemas.js';
import type { Sessions } from './sessions.js';

export interface AuthDeps {
  db: Db;
  clock: Clock;
  sessions: Sessions;
  throttle: Throttle;
  ring: readonly RingKey[];
}

export class AuthRoutes {
  constructor(private readonly deps: AuthDeps) {}

  @route({ method: 'POST', url: '/signup', schema: SignupSchema })
  @publicRoute
  async signup(req: Req<typeof SignupSchema>, reply: Reply<typeof SignupSchema>) {
    await this.deps.throttle.signup(req.ip);
    const { password } = req.body;
    const checked = checkUsername(req.body.username);
    if (!checked.ok) throw errors.usernameInvalid(checked.message);
    const username = checked.display;
    if (isCommonPassword(password)) throw errors.passwordTooCommon();
    // Refused before the costly hash; the unique indexes still decide a race.
    await this.refuseTakenUsername(username);
    const passwordHash = await hashPassword(password);
    try {
      await insertUser(this.deps.db, {
        publicId: randomUUID(),
        username,
        passwordHash,
        createdAt: new Date(this.deps.clock.now()).toISOString(),
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await this.refuseTakenUsername(username);
      throw errors.userExists();
    }
    req.log.info({ event: 'signup', username }, 'user registered');
    return reply.code(201).send({ message: 'registered successfully' });
  }

  /** 409: the same name in another case or width, or one that looks the same. */
  private async refuseTakenUsername(username: string): Promise<void> {
    const taken = await findUsernameClash(this.deps.db, username);
    if (taken?.clash === 'same') throw errors.userExists();
    if (taken?.clash === 'confusable') throw errors.usernameConfusable();
  }

  @route({ method: 'POST', url: '/login', schema: LoginSchema, invalidInput: errors.invalidCredentials })
  @publicRoute
  async login(req: Req<typeof LoginSchema>, reply: Reply<typeof LoginSchema>) {
    const { password } = req.body;
    // One spelling per name: "é" typed composed or decomposed is the same user.
    const username = req.body.username.normalize('NFC');
    const { throttle, db } = this.deps;
    let attempt: Awaited<ReturnType<Throttle['beginLogin']>>;
    try {
      attempt = await throttle.beginLogin(username, req.ip);
    } catch (error) {
      // Only a refusal is a throttled login; an unreachable counter store is logged by the store, once.
      if (error instanceof ApiError && error.statusCode === 429)
        req.log.warn({ event: 'login.throttled', username, ip: req.ip }, 'login throttled');
      throw error;
    }
    const found = await findCredentials(db, username);
    // Unknown users pay for a verify too, so timing does not tell them apart.
    const valid = await verifyPassword(found?.passwordHash ?? (await getDummyHash()), password);
    if (!found || !valid) {
      req.log.info({ event: 'login.failure', username, ip: req.ip }, 'login failed');
      throw errors.invalidCredentials();
    }
    await attempt.succeeded();
    // Said only to someone who knows the password, so it reveals nothing to a guesser.
    if (found.disabled) throw errors.accountDisabled();
    let passwordHash = found.passwordHash;
    if (needsRehash(passwordHash)) {
      // The password is in hand only now: upgrade a hash made with older, weaker parameters —
      // unless the password was changed meanwhile, which the new hash must not undo.
      const upgraded = await hashPassword(password);
      if (!(await replacePasswordHash(db, found.id, passwordHash, upgraded)))
        throw errors.invalidCredentials();
      passwordHash = upgraded;
    }
    const pair = await this.deps.sessions.start({ ...found, passwordHash });
    req.log.info({ event: 'login.success', user: found.publicId }, 'logged in');
    return reply.code(201).send(pair);
  }

  @route({
    method: 'POST',
    url: '/token/refresh',
    schema: RefreshSchema,
    invalidInput: errors.invalidRefresh,
  })
  @publicRoute
  async refresh(req: Req<typeof RefreshSchema>, reply: Reply<typeof RefreshSchema>) {
    const pair = await this.deps.sessions.refresh(req.body.refresh_token, req.log);
    return reply.code(201).send(pair);
  }

  @route({ method: 'POST', url: '/logout', schema: LogoutSchema })
  @tokenRequired
  async logout(user: AuthUser, req: Req<typeof LogoutSchema>) {
    await revokeSession(this.deps.db, user.sessionId, this.deps.clock.now());
    req.log.info({ event: 'logout', user: user.publicId, session: user.sessionId }, 'logged out');
    return { message: 'Logged out' };
  }

  @route({ method: 'POST', url: '/logout/all', schema: LogoutAllSchema })
  @tokenRequired
  async logoutAll(user: AuthUser, req: Req<typeof LogoutAllSchema>) {
    const ended = await revokeUserSessions(this.deps.db, user.id, this.deps.clock.now());
    req.log.info({ event: 'logout.all', user: user.publicId, sessions: ended }, 'logged out everywhere');
    return { message: 'Logged out of all sessions' };
  }

  @route({ method: 'GET', url: '/.well-known/jwks.json', schema: JwksSchema })
  @publicRoute
  async jwks(_req: Req<typeof JwksSchema>, reply: Reply<typeof JwksSchema>) {
    // Public keys are public: caches may keep them for a while (the no-store default is for private answers).
    return reply
      .header('cache-control', 'public, max-age=300')
      .send({ keys: this.deps.ring.map((k) => k.publicJwk) });
  }
}
