import { AuditAction } from "../audit/audit-actions";
import { recordAudit } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db, DbOrTx } from "../db/database";
import { AuthenticationError, ConflictError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import {
  findUserByEmail,
  findUserByUsername,
  grantedRoleNames,
  insertUser,
  recordLogin,
  type UserRow,
} from "../users/user.repository";
import type { AccessTokenService } from "./access-tokens";
import { classifyIdentifier, normalizeEmail, normalizeUsername } from "./identity-rules";
import { assertPasswordShape, type PasswordHasher } from "./passwords";
import type { UserPrincipal } from "./principal";
import type { PrincipalVersions } from "./principal-versions";
import type { RoleCatalog } from "./role-catalog";
import { resolveRoles } from "./role-graph";
import type { SessionPolicy } from "./session-policy";
import { createRefreshService, type RefreshService } from "./refresh.service";
import { formatOpaqueToken, generateOpaqueToken, hashSecret } from "./opaque-tokens";
import { insertRefreshToken, insertSession, revokeSession, type SessionRow } from "./session.repository";

/** A session opened or continued inside a transaction, before its access token is minted. */
export interface SessionGrant {
  user: UserRow;
  session: SessionRow;
  refreshToken: string;
}

/** What a successful register, login or refresh hands back to the client. */
export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  sessionId: string;
  user: UserRow;
  roles: string[];
  permissions: Set<string>;
}

export interface AuthService {
  register(input: { email: string; password: string; username?: string | null }, meta: RequestMeta): Promise<AuthResult>;
  login(input: { identifier: string; password: string }, meta: RequestMeta): Promise<AuthResult>;
  refresh(refreshToken: string, meta: RequestMeta): Promise<AuthResult>;
  logout(principal: UserPrincipal, meta: RequestMeta): Promise<void>;
}

export interface AuthServiceDeps {
  db: Db;
  hasher: PasswordHasher;
  accessTokens: AccessTokenService;
  versions: PrincipalVersions;
  roleCatalog: RoleCatalog;
  chainKey: Buffer;
  sessionPolicy: SessionPolicy;
  clock: Clock;
}

const INVALID_CREDENTIALS = "Invalid email, username or password";

export function createAuthService(deps: AuthServiceDeps): AuthService {
  const { db, hasher, accessTokens, versions, roleCatalog, sessionPolicy, clock } = deps;

  async function rolesOf(userId: string) {
    const [granted, stamps] = await Promise.all([grantedRoleNames(db, userId), versions.current(userId)]);
    return resolveRoles(["USER", ...granted], await roleCatalog.graph(stamps.roles));
  }

  /** Opens a session with its first refresh token, inside the caller's transaction. */
  async function startSession(tx: DbOrTx, user: UserRow, meta: RequestMeta, now: Date) {
    const session = await insertSession(tx, {
      userId: user.id,
      ip: meta.ip,
      userAgent: meta.userAgent,
      now,
      idleExpiresAt: sessionPolicy.idleExpiry(now, now),
      expiresAt: sessionPolicy.absoluteExpiry(now),
    });
    const token = generateOpaqueToken();
    await insertRefreshToken(tx, { id: token.id, sessionId: session.id, secretHash: hashSecret(token.secret), now });
    return { session, refreshToken: formatOpaqueToken(token) };
  }

  /**
   * Mints the access token for a session, after its transaction committed; the token never
   * outlives the session's idle or absolute expiry.
   */
  async function complete({ user, session, refreshToken }: SessionGrant): Promise<AuthResult> {
    const { roles, permissions } = await rolesOf(user.id);
    const refreshTokenExpiresAt = sessionPolicy.refreshTokenExpiry(session);
    const access = accessTokens.issue({ userId: user.id, sessionId: session.id, roles, notAfter: refreshTokenExpiresAt });
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      refreshTokenExpiresAt,
      sessionId: session.id,
      user,
      roles,
      permissions,
    };
  }

  const refreshService: RefreshService = createRefreshService({
    db,
    chainKey: deps.chainKey,
    sessionPolicy,
    clock,
    versions,
    complete,
  });

  async function findByIdentifier(identifier: string): Promise<UserRow | undefined> {
    const classified = classifyIdentifier(identifier);
    if (!classified) return undefined;
    return classified.kind === "email"
      ? findUserByEmail(db, classified.value)
      : findUserByUsername(db, classified.value);
  }

  async function auditLoginFailure(meta: RequestMeta, identifier: string, user: UserRow | undefined, reason: string) {
    await recordAudit(db, meta, {
      actor: { type: "anonymous" },
      action: AuditAction.LOGIN_FAILED,
      outcome: "failure",
      target: user ? { type: "user", id: user.id } : undefined,
      details: { identifier: identifier.trim().slice(0, 254), reason },
    });
  }

  return {
    async register(input, meta) {
      const email = normalizeEmail(input.email);
      const username = input.username ? normalizeUsername(input.username) : null;
      assertPasswordShape(input.password);
      const passwordHash = await hasher.hash(input.password);
      const grant = await db.transaction(async (tx) => {
        const user = await insertUser(tx, { email, username, passwordHash });
        if (!user) {
          const emailTaken = await findUserByEmail(tx, email);
          throw emailTaken
            ? new ConflictError("This email is already registered", "email")
            : new ConflictError("This username is taken", "username");
        }
        const now = clock.now();
        const { session, refreshToken } = await startSession(tx, user, meta, now);
        await recordAudit(tx, meta, {
          actor: { type: "user", id: user.id },
          action: AuditAction.REGISTER,
          outcome: "success",
          target: { type: "user", id: user.id },
          details: { sessionId: session.id, username },
        });
        return { user, session, refreshToken };
      });
      return complete(grant);
    },

    async login(input, meta) {
      const user = await findByIdentifier(input.identifier);
      const passwordOk = await hasher.verify(input.password, user?.passwordHash ?? null);
      if (!user || !passwordOk) {
        await auditLoginFailure(meta, input.identifier, user, user ? "bad_password" : "unknown_identifier");
        throw new AuthenticationError(INVALID_CREDENTIALS);
      }
      if (user.status === "disabled") {
        await auditLoginFailure(meta, input.identifier, user, "disabled");
        throw new AuthenticationError("This account is disabled");
      }
      const grant = await db.transaction(async (tx) => {
        const now = clock.now();
        const { session, refreshToken } = await startSession(tx, user, meta, now);
        await recordLogin(tx, user.id, now);
        await recordAudit(tx, meta, {
          actor: { type: "user", id: user.id },
          action: AuditAction.LOGIN_SUCCEEDED,
          outcome: "success",
          target: { type: "session", id: session.id },
        });
        return { user: { ...user, lastLoginAt: now }, session, refreshToken };
      });
      return complete(grant);
    },

    refresh: (token, meta) => refreshService.refresh(token, meta),

    async logout(principal, meta) {
      await db.transaction(async (tx) => {
        const revoked = await revokeSession(tx, principal.sessionId, "logout", clock.now());
        if (!revoked) return;
        await recordAudit(tx, meta, {
          actor: { type: "user", id: principal.userId },
          action: AuditAction.LOGOUT,
          outcome: "success",
          target: { type: "session", id: principal.sessionId },
        });
      });
      await versions.bumpUser(principal.userId);
    },
  };
}
