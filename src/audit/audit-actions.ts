/** The closed list of audit action names. Every audit row names one of these. */
export const AuditAction = {
  REGISTER: "auth.register",
  LOGIN_SUCCEEDED: "auth.login.succeeded",
  LOGIN_FAILED: "auth.login.failed",
  TOKEN_REFRESHED: "auth.token.refreshed",
  REFRESH_FAILED: "auth.token.refresh_failed",
  REFRESH_REUSE_DETECTED: "auth.session.reuse_detected",
  LOGOUT: "auth.logout",
  SESSION_REVOKED: "auth.session.revoked",
  BOOTSTRAP_ADMIN_CREATED: "system.bootstrap_admin_created",
} as const;

export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];
