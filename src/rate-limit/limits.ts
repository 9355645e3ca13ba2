import type { RateLimitRule } from "./rate-limit";

/**
 * Every rate limit in one place. Keyed by client ip, and where it fits by the account or
 * token the call targets, so neither one ip spraying many accounts nor many ips hammering
 * one account gets far. RATE_LIMIT_SCALE multiplies every `max`.
 */
const lower = (value: unknown) => (typeof value === "string" && value.trim() ? value.trim().toLowerCase() : undefined);
const tokenId = (value: unknown) => (typeof value === "string" ? value.split(".")[0] || undefined : undefined);

export const LIMITS = {
  register: [{ name: "register-ip", window: "1h", max: 10, by: "ip" }],
  login: [
    { name: "login-ip", window: "15m", max: 30, by: "ip" },
    { name: "login-account", window: "15m", max: 10, by: (args) => lower(args.input?.identifier) },
  ],
  completeMfaLogin: [
    { name: "mfa-login-ip", window: "15m", max: 30, by: "ip" },
    { name: "mfa-challenge", window: "5m", max: 5, by: (args) => tokenId(args.input?.challengeToken) },
  ],
  refresh: [{ name: "refresh-ip", window: "1m", max: 120, by: "ip" }],
  requestPasswordReset: [
    { name: "reset-request-ip", window: "1h", max: 10, by: "ip" },
    { name: "reset-request-account", window: "1h", max: 3, by: (args) => lower(args.email) },
  ],
  resetPassword: [{ name: "reset-ip", window: "1h", max: 20, by: "ip" }],
  emailToken: [{ name: "email-token-ip", window: "1h", max: 20, by: "ip" }],
  resendVerification: [{ name: "verification-resend-ip", window: "1h", max: 5, by: "ip" }],
  changeCredentials: [{ name: "credential-change", window: "15m", max: 10, by: "ip+field" }],
  mfa: [{ name: "mfa-manage", window: "15m", max: 10, by: "ip+field" }],
  tokenStatus: [{ name: "token-status-ip", window: "1m", max: 600, by: "ip" }],
  /** Replays up to 10,000 recorded decisions: CPU a caller could otherwise spend freely. */
  whatIf: [{ name: "what-if-ip", window: "1m", max: 10, by: "ip" }],
  /** A taken username is refused: throttled so it cannot be used as a lookup. */
  updateProfile: [{ name: "profile-update", window: "15m", max: 20, by: "ip" }],
} satisfies Record<string, RateLimitRule[]>;
