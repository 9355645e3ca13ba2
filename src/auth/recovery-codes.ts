import crypto from "node:crypto";

/**
 * One-time recovery codes for accounts with TOTP: `xxxxx-xxxxx-xxxxx`, lower-case letters and
 * digits without the look-alikes 0/o, 1/i/l. 31 symbols x 15 characters = 74 bits each, so a
 * fast hash is enough to store them (there is nothing to brute-force); only the hash of the
 * normalised code is kept, and lookups go by that hash.
 */
export const RECOVERY_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
export const RECOVERY_CODE_GROUPS = 3;
export const RECOVERY_CODE_GROUP_LENGTH = 5;
const MAX_COUNT = 100;

export function generateRecoveryCodes(count = 10): string[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new RangeError(`Recovery code count must be an integer from 1 to ${MAX_COUNT}`);
  }
  const codes = new Set<string>();
  while (codes.size < count) codes.add(generateRecoveryCode());
  return [...codes];
}

function generateRecoveryCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < RECOVERY_CODE_GROUPS; g += 1) {
    let group = "";
    for (let i = 0; i < RECOVERY_CODE_GROUP_LENGTH; i += 1) {
      group += RECOVERY_CODE_ALPHABET[crypto.randomInt(RECOVERY_CODE_ALPHABET.length)];
    }
    groups.push(group);
  }
  return groups.join("-");
}

/** What a person typed, as stored: lower-case, without spaces or dashes. */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]+/g, "");
}

/** SHA-256 of the normalised code, base64url: "ABCDE-fghjk" and "abcdefghjk" hash alike. */
export function hashRecoveryCode(code: string): string {
  return crypto.createHash("sha256").update(normalizeRecoveryCode(code), "utf8").digest("base64url");
}
