import type { AccessTokenService } from "./access-tokens";
import type { PrincipalResolver } from "./principal-resolver";
import type { SessionRestriction } from "./session-restriction";

export interface TokenStatusView {
  active: boolean;
  subject: string | null;
  sessionId: string | null;
  roles: string[];
  permissions: string[];
  restriction: SessionRestriction | null;
  expiresAt: Date | null;
}

export interface TokenStatusService {
  /** Whether an access token is live now: valid signature and claims, session not ended, user enabled. */
  status(token: string): Promise<TokenStatusView>;
}

const INACTIVE: TokenStatusView = {
  active: false,
  subject: null,
  sessionId: null,
  roles: [],
  permissions: [],
  restriction: null,
  expiresAt: null,
};

/**
 * The inter-service check beside JWKS: JWKS proves who signed a token, this says whether it
 * still counts (logout, reuse detection, disabling and role changes show here at once).
 * Anything wrong with the token is just "not active": no reasons that would help a forger.
 */
export function createTokenStatusService(deps: { principals: PrincipalResolver; accessTokens: AccessTokenService }): TokenStatusService {
  return {
    async status(token) {
      if (token.length > 4_096) return INACTIVE;
      const check = deps.accessTokens.verify(token);
      if (!check.ok) return INACTIVE;
      const resolved = await deps.principals.resolve(token);
      if (!resolved.ok) return INACTIVE;
      const { principal } = resolved;
      return {
        active: true,
        subject: principal.userId,
        sessionId: principal.sessionId,
        roles: [...principal.roles],
        permissions: [...principal.permissions].sort(),
        restriction: principal.restriction,
        expiresAt: new Date(check.claims.exp * 1000),
      };
    },
  };
}
