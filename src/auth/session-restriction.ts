import type { SessionRow } from "./session.repository";

export type SessionRestriction = NonNullable<SessionRow["restriction"]>;

/**
 * What a session may do now. Password expiry and email verification are facts of the
 * session's sign-in, stored with it and lifted when met. MFA enrolment follows the user's
 * current roles instead: a role that requires MFA, granted to a live session, restricts it
 * on its very next request, and revoking that role (or enrolling) lifts it again.
 */
export function currentRestriction(
  stored: SessionRestriction | null,
  user: { mfaEnabled: boolean },
  roles: readonly string[],
  mfaRequiredRoles: readonly string[],
): SessionRestriction | null {
  if (stored && stored !== "mfa_enrollment") return stored;
  return !user.mfaEnabled && roles.some((role) => mfaRequiredRoles.includes(role)) ? "mfa_enrollment" : null;
}

/** The spelling of the schema's SessionRestriction enum, used in access-token claims too. */
export function restrictionName(restriction: SessionRestriction): string {
  return restriction.toUpperCase();
}
