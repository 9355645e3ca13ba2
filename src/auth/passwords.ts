import { hash, verify } from "@node-rs/bcrypt";
import { UserInputError } from "../errors/errors";

/** bcrypt reads at most 72 bytes; longer passwords are refused, never silently truncated. */
export const MAX_PASSWORD_BYTES = 72;
export const MIN_PASSWORD_LENGTH = 8;

/**
 * Shape rules every password meets (the full policy of length, classes, breached lists and
 * history builds on this). Throws a typed error naming `field`; never echoes the password.
 */
export function assertPasswordShape(password: string, field = "password"): void {
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    throw new UserInputError(`Password must be at most ${MAX_PASSWORD_BYTES} bytes (bcrypt's limit)`, field);
  }
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new UserInputError(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`, field);
  }
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, passwordHash: string | null): Promise<boolean>;
}

/**
 * bcrypt at the configured cost. `verify` against a missing hash still pays a full verify
 * against a dummy hash of the same cost, so "no such user" and "wrong password" take the
 * same time.
 */
export function createPasswordHasher(cost: number): PasswordHasher {
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hash("not-a-real-password-0000", cost));
  return {
    hash: (password) => hash(password, cost),
    async verify(password, passwordHash) {
      if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
        await verify(password.slice(0, 8), passwordHash ?? (await dummy())).catch(() => false);
        return false;
      }
      if (!passwordHash) {
        await verify(password, await dummy());
        return false;
      }
      return verify(password, passwordHash).catch(() => false);
    },
  };
}
