import { generateSecret, generateSync, generateURI, verifySync } from "otplib";

/**
 * Time-based one-time passwords with authenticator-app defaults (RFC 6238: HMAC-SHA1, 6
 * digits, 30-second steps), on otplib. Pure apart from randomness: the time is passed in.
 *
 * Invariant: a code is accepted at most once. Each success returns the time step it matched;
 * the caller stores it and passes it back as `lastUsedStep`, and any code of that step or an
 * earlier one is refused from then on.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** One step either side of the current one, for clock drift between phone and server. */
const DRIFT_STEPS = 1;
const SECRET_BYTES = 20;
const CODE = /^\d{6}$/;

export type TotpVerification = { ok: true; step: number } | { ok: false };

/** A fresh 160-bit secret, base32 without padding (32 characters), as authenticator apps expect. */
export function generateTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/**
 * The `otpauth://totp/<issuer>:<account>?secret=…&issuer=…` URI shown as a QR code. otplib
 * percent-encodes both parts; a ':' in either would be read as the label separator, so it is
 * refused.
 */
export function totpUri(secret: string, account: string, issuer: string): string {
  if (account.includes(":") || issuer.includes(":")) {
    throw new Error("TOTP account and issuer must not contain ':' (the label separator)");
  }
  return generateURI({ issuer, label: account, secret });
}

/**
 * Checks `code` against the steps just before, at and after `now`. Spaces in the code are
 * ignored; anything other than six digits is refused without throwing. A code whose step is
 * at or before `lastUsedStep` is refused (replay).
 */
export function verifyTotp(secret: string, code: string, now: Date, lastUsedStep: number | null): TotpVerification {
  const token = typeof code === "string" ? code.replace(/\s+/g, "") : "";
  if (!CODE.test(token)) return { ok: false };
  const epoch = epochSeconds(now);
  const newestStep = Math.floor(epoch / TOTP_PERIOD_SECONDS) + DRIFT_STEPS;
  if (lastUsedStep !== null) {
    if (!Number.isSafeInteger(lastUsedStep)) throw new RangeError("lastUsedStep must be an integer time step");
    // otplib throws when afterTimeStep lies beyond the window; every step in it is refused anyway.
    if (lastUsedStep >= newestStep) return { ok: false };
  }
  const result = verifySync({
    secret,
    token,
    epoch,
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    algorithm: "sha1",
    epochTolerance: DRIFT_STEPS * TOTP_PERIOD_SECONDS,
    afterTimeStep: lastUsedStep !== null && lastUsedStep >= 0 ? lastUsedStep : undefined,
  });
  // The union also covers HOTP results, which carry no time step; TOTP's always do.
  return result.valid && "timeStep" in result ? { ok: true, step: result.timeStep } : { ok: false };
}

/** The code an authenticator shows at `at` (for tests and fixtures). */
export function totpCodeAt(secret: string, at: Date): string {
  return generateSync({
    secret,
    epoch: epochSeconds(at),
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    algorithm: "sha1",
  });
}

/** The time step containing `at`. */
export function totpStepAt(at: Date): number {
  return Math.floor(epochSeconds(at) / TOTP_PERIOD_SECONDS);
}

function epochSeconds(at: Date): number {
  const ms = at.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError("TOTP time must be a valid date after 1970");
  return Math.floor(ms / 1000);
}
