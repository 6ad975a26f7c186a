import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preValidationHookHandler } from 'fastify';
import type { Audit } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { ApiError, errors } from '../errors.js';
import { clientOf } from '../http/client.js';
import { type Reply, type Req, route } from '../http/route.js';
import { revokeSession, revokeUserSessions, sessionPublicId } from '../sessions/repository.js';
import type { Throttle } from '../throttle/throttle.js';
import { findCredentials, findUsernameClash, insertUser, replacePasswordHash } from '../users/repository.js';
import { type AuthUser, sessionOf } from '../users/user.js';
import { checkUsername } from '../users/username.js';
import { isCommonPassword } from './common-passwords.js';
import {
  bindingOf,
  checkSameOrigin,
  clearingCookie,
  MODE_HEADER,
  readRefreshCookie,
  setRefreshCookie,
  wantsCookie,
} from './cookie-mode.js';
import { publicRoute, sessionTokenRequired } from './decorators.js';
import type { RingKey } from './keys.js';
import { getDummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import {
  JwksSchema,
  LoginSchema,
  LogoutAllSchema,
  LogoutSchema,
  RefreshSchema,
  SignupSchema,
  TokenLogoutSchema,
} from './schemas.js';
import type { Sessions, TokenPair } from './sessions.js';

export interface AuthDeps {
  db: Db;
  clock: Clock;
  sessions: Sessions;
  throttle: Throttle;
  ring: readonly RingKey[];
  audit: Audit;
  /** REFRESH_TOKEN_TTL in seconds: how long the web client's refresh cookie lives. */
  refreshTokenTtl: number;
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
    const publicId = randomUUID();
    try {
      await insertUser(this.deps.db, {
        publicId,
        username,
        passwordHash,
        createdAt: new Date(this.deps.clock.now()).toISOString(),
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await this.refuseTakenUsername(username);
      throw errors.userExists();
    }
    await this.deps.audit.record(req.log, {
      type: 'signup',
      outcome: 'success',
      actor: publicId,
      subject: publicId,
      client: clientOf(req),
    });
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
    // Cookie mode is checked at login too, before anything happens: a proxy that hides the
    // origin fails here, not at the first refresh 15 minutes later.
    let binding: string | undefined;
    if (wantsCookie(req)) {
      checkSameOrigin(req);
      binding = bindingOf(req);
    }
    // One spelling per name: "é" typed composed or decomposed is the same user.
    const username = req.body.username.normalize('NFC');
    const { throttle, db, audit } = this.deps;
    const client = clientOf(req);
    let attempt: Awaited<ReturnType<Throttle['beginLogin']>>;
    try {
      attempt = await throttle.beginLogin(username, req.ip);
    } catch (error) {
      // Only a refusal is a throttled login; an unreachable counter store is logged by the store, once.
      if (error instanceof ApiError && error.statusCode === 429) {
        const known = await findCredentials(db, username);
        await audit.record(req.log, {
          type: 'login.throttled',
          outcome: 'failure',
          ...(known ? { subject: known.publicId } : { username }),
          client,
        });
      }
      throw error;
    }
    const found = await findCredentials(db, username);
    // Unknown users pay for a verify too, so timing does not tell them apart.
    const valid = await verifyPassword(found?.passwordHash ?? (await getDummyHash()), password);
    if (!found || !valid) {
      // The account's owner sees failed logins in their activity; a name that matched none is kept as typed.
      await audit.record(req.log, {
        type: 'login.failure',
        outcome: 'failure',
        ...(found ? { subject: found.publicId } : { username }),
        client,
      });
      throw errors.invalidCredentials();
    }
    await attempt.succeeded();
    // Said only to someone who knows the password, so it reveals nothing to a guesser.
    if (found.disabled) {
      await audit.record(req.log, {
        type: 'login.disabled',
        outcome: 'failure',
        subject: found.publicId,
        client,
      });
      throw errors.accountDisabled();
    }
    let passwordHash = found.passwordHash;
    if (needsRehash(passwordHash)) {
      // The password is in hand only now: upgrade a hash made with older, weaker parameters —
      // unless the password was changed meanwhile, which the new hash must not undo.
      const upgraded = await hashPassword(password);
      if (!(await replacePasswordHash(db, found.id, passwordHash, upgraded)))
        throw errors.invalidCredentials();
      passwordHash = upgraded;
    }
    const { pair, sessionPublicId } = await this.deps.sessions.start(
      { ...found, passwordHash },
      client,
      binding,
    );
    await audit.record(req.log, {
      type: 'login.success',
      outcome: 'success',
      actor: found.publicId,
      subject: found.publicId,
      session: sessionPublicId,
      client,
    });
    return reply.code(201).send(this.deliver(req, reply, pair));
  }

  @route({
    method: 'POST',
    url: '/token/refresh',
    schema: RefreshSchema,
    invalidInput: errors.invalidRefresh,
    preValidation: refreshFromCookie,
    // The web client sends no body; many fetch wrappers still label it JSON.
    emptyBody: (req) => req.headers[MODE_HEADER] !== undefined,
  })
  @publicRoute
  async refresh(req: Req<typeof RefreshSchema>, reply: Reply<typeof RefreshSchema>) {
    try {
      const binding = wantsCookie(req) ? bindingOf(req) : undefined;
      const pair = await this.deps.sessions.refresh(req.body.refresh_token, req.log, clientOf(req), binding);
      return reply.code(201).send(this.deliver(req, reply, pair));
    } catch (error) {
      throw wantsCookie(req) ? withClearedCookie(req, error) : error;
    }
  }

  @route({ method: 'POST', url: '/token/logout', schema: TokenLogoutSchema })
  @publicRoute
  async tokenLogout(req: Req<typeof TokenLogoutSchema>, reply: Reply<typeof TokenLogoutSchema>) {
    checkSameOrigin(req);
    const binding = bindingOf(req);
    const token = readRefreshCookie(req);
    const ended =
      token === undefined ? undefined : await this.deps.sessions.endByRefreshToken(token, binding);
    if (ended) {
      await this.deps.audit.record(req.log, {
        type: 'logout',
        outcome: 'success',
        actor: ended.user.publicId,
        subject: ended.user.publicId,
        session: ended.sessionPublicId,
        client: clientOf(req),
      });
    }
    return reply.header('set-cookie', clearingCookie(req)).send({ message: 'Logged out' });
  }

  /** The pair as the client asked for it: all in the JSON, or the refresh token in its cookie. */
  private deliver(req: FastifyRequest, reply: FastifyReply, pair: TokenPair): TokenPair {
    if (!wantsCookie(req)) return pair;
    setRefreshCookie(req, reply, pair.refresh_token, this.deps.refreshTokenTtl);
    const { refresh_token: _inCookie, ...rest } = pair;
    return rest as TokenPair;
  }

  @route({ method: 'POST', url: '/logout', schema: LogoutSchema })
  @sessionTokenRequired
  async logout(user: AuthUser, req: Req<typeof LogoutSchema>, reply: Reply<typeof LogoutSchema>) {
    const sessionId = sessionOf(user);
    await revokeSession(this.deps.db, sessionId, this.deps.clock.now());
    reply.header('set-cookie', clearingCookie(req));
    await this.deps.audit.bySelf(req, user, {
      type: 'logout',
      outcome: 'success',
      session: (await sessionPublicId(this.deps.db, sessionId)) ?? null,
    });
    return { message: 'Logged out' };
  }

  @route({ method: 'POST', url: '/logout/all', schema: LogoutAllSchema })
  @sessionTokenRequired
  async logoutAll(user: AuthUser, req: Req<typeof LogoutAllSchema>, reply: Reply<typeof LogoutAllSchema>) {
    const ended = await revokeUserSessions(this.deps.db, user.id, this.deps.clock.now());
    reply.header('set-cookie', clearingCookie(req));
    await this.deps.audit.bySelf(req, user, {
      type: 'logout.all',
      outcome: 'success',
      detail: { sessions_ended: ended },
    });
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

/**
 * The web client's refresh: the token comes from its cookie, after the
 * same-origin checks, and fills the body before it is validated. A missing
 * cookie is the usual 401, and removes whatever cookie is left.
 */
function refreshFromCookie(
  req: FastifyRequest,
  _reply: FastifyReply,
  done: Parameters<preValidationHookHandler>[2],
): void {
  if (!wantsCookie(req)) {
    done();
    return;
  }
  try {
    checkSameOrigin(req);
    const token = readRefreshCookie(req);
    // Absent, doubled or malformed: the usual 401, and whatever cookie is there is removed.
    if (token === undefined || !/^[A-Za-z0-9_-]{43}$/.test(token))
      throw withClearedCookie(req, errors.invalidRefresh());
    req.body = { refresh_token: token };
  } catch (error) {
    done(error as Error);
    return;
  }
  done();
}

/** A failed cookie refresh also removes the cookie: the session it named is over. */
function withClearedCookie(req: FastifyRequest, error: unknown): unknown {
  if (!(error instanceof ApiError) || error.statusCode !== 401) return error;
  return new ApiError(error.statusCode, error.code, error.message, {
    ...error.headers,
    'set-cookie': clearingCookie(req),
  });
}
