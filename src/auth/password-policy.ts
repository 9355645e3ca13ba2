import type * as ZxcvbnCore from "@zxcvbn-ts/core";
import type * as ZxcvbnCommon from "@zxcvbn-ts/language-common";
import { UserInputError } from "../errors/errors";
import { MAX_PASSWORD_BYTES } from "./passwords";

/**
 * The password policy: pure rules, each refusing with its own message that names the rule
 * and never echoes the password. The rules are deterministic (no strength score decides
 * anything); `passwordStrength` is advisory, for a meter in a form.
 */
export type PasswordClass = "lower" | "upper" | "digit" | "symbol";

export interface PasswordPolicy {
  minLength: number;
  requireClasses: PasswordClass[];
  forbidCommon: boolean;
  forbidPersonalInfo: boolean;
}

export const PASSWORD_CLASSES: readonly PasswordClass[] = ["lower", "upper", "digit", "symbol"];

/** Frozen (shallowly): spread it to derive a configured policy, never mutate it. */
export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({
  minLength: 10,
  requireClasses: [],
  forbidCommon: true,
  forbidPersonalInfo: true,
});

const CLASS_RULES: Record<PasswordClass, { pattern: RegExp; message: string }> = {
  lower: { pattern: /\p{Ll}/u, message: "Password must contain a lowercase letter" },
  upper: { pattern: /\p{Lu}/u, message: "Password must contain an uppercase letter" },
  digit: { pattern: /\p{Nd}/u, message: "Password must contain a digit" },
  symbol: { pattern: /[^\p{L}\p{N}]/u, message: "Password must contain a symbol (a character that is not a letter or digit)" },
};

/** Email local parts and usernames shorter than this are too short to be told apart from chance. */
const MIN_PERSONAL_LENGTH = 3;
/** A stripped core shorter than this is not checked against the list (it would refuse too much). */
const MIN_COMMON_CORE_LENGTH = 4;
/** Longest block whose repetition ("abcabcabc", "12121212") counts as a pattern. */
const MAX_REPEATED_BLOCK = 4;
const SEPARATORS = /[\s._+-]+/gu;

/**
 * Throws a `UserInputError` naming `field` for the first rule the password breaks. Rules, in
 * order: at most 72 UTF-8 bytes; at least `minLength` code points; each required class; then,
 * with `forbidCommon`, not a repeated character/short pattern or a simple sequence and not in
 * the breached-password list (also after stripping leading/trailing digits and symbols);
 * then, with `forbidPersonalInfo`, not containing the email's local part or the username.
 */
export function checkPasswordPolicy(
  password: string,
  context: { email?: string | null; username?: string | null },
  policy: PasswordPolicy,
  field = "password",
): void {
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    throw new UserInputError(`Password must be at most ${MAX_PASSWORD_BYTES} bytes (bcrypt's limit)`, field);
  }
  const codePoints = [...password];
  if (codePoints.length < policy.minLength) {
    throw new UserInputError(`Password must be at least ${policy.minLength} characters`, field);
  }
  for (const name of policy.requireClasses) {
    const rule = CLASS_RULES[name];
    if (!rule.pattern.test(password)) throw new UserInputError(rule.message, field);
  }
  const lowered = password.toLowerCase();
  if (policy.forbidCommon) {
    if (isPredictable([...lowered])) {
      throw new UserInputError(
        "Password must not be a single repeated character, a short repeated pattern or a simple sequence",
        field,
      );
    }
    if (isCommonPassword(lowered)) {
      throw new UserInputError("Password is too common (found in lists of breached passwords)", field);
    }
  }
  if (policy.forbidPersonalInfo && containsPersonalInfo(lowered, context)) {
    throw new UserInputError("Password must not contain your email or username", field);
  }
}

/**
 * Parses a configured list such as "lower,upper,digit" (commas and/or spaces, any case,
 * duplicates dropped). Throws a plain `Error` naming the unknown entry: this is for config.
 */
export function parsePasswordClasses(text: string): PasswordClass[] {
  const names = text
    .split(/[\s,]+/)
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0);
  const classes: PasswordClass[] = [];
  for (const name of names) {
    if (!isPasswordClass(name)) {
      const shown = name.length > 20 ? `${name.slice(0, 20)}…` : name;
      throw new Error(`Unknown password character class "${shown}"; expected any of ${PASSWORD_CLASSES.join(", ")}`);
    }
    if (!classes.includes(name)) classes.push(name);
  }
  return classes;
}

function isPasswordClass(name: string): name is PasswordClass {
  return (PASSWORD_CLASSES as readonly string[]).includes(name);
}

/**
 * The whole password is one character repeated, a block of up to four characters repeated at
 * least three times, or a run of consecutive code points up or down ("abcdefgh", "87654321",
 * digits wrapping 9 -> 0). Takes lower-cased code points.
 */
function isPredictable(chars: string[]): boolean {
  if (chars.length < 2) return false;
  for (let block = 1; block <= MAX_REPEATED_BLOCK && block * 3 <= chars.length; block += 1) {
    if (chars.length % block === 0 && chars.every((char, i) => char === chars[i % block])) return true;
  }
  return isSequence(chars, 1) || isSequence(chars, -1);
}

function isSequence(chars: string[], step: 1 | -1): boolean {
  for (let i = 1; i < chars.length; i += 1) {
    const previous = chars[i - 1] as string;
    const current = chars[i] as string;
    const wrapsDigits = step === 1 ? previous === "9" && current === "0" : previous === "0" && current === "9";
    if (!wrapsDigits && (current.codePointAt(0) as number) - (previous.codePointAt(0) as number) !== step) {
      return false;
    }
  }
  return true;
}

/**
 * The lower-cased password, the password without trailing non-letters ("password123!" ->
 * "password") and without leading and trailing non-letters ("2024dragon!" -> "dragon") are
 * looked up in the list; stripped cores shorter than four characters are not.
 */
function isCommonPassword(lowered: string): boolean {
  const list = commonPasswords();
  if (list.has(lowered)) return true;
  const withoutTail = lowered.replace(/[^\p{L}]+$/u, "");
  const core = withoutTail.replace(/^[^\p{L}]+/u, "");
  return [withoutTail, core].some((candidate) => [...candidate].length >= MIN_COMMON_CORE_LENGTH && list.has(candidate));
}

/** Contains the email's local part (also its part before "+") or the username, ignoring case and separators. */
function containsPersonalInfo(lowered: string, context: { email?: string | null; username?: string | null }): boolean {
  const needles: string[] = [];
  if (context.email) {
    const at = context.email.lastIndexOf("@");
    const local = (at >= 0 ? context.email.slice(0, at) : context.email).toLowerCase();
    needles.push(local, local.split("+")[0] as string);
  }
  if (context.username) needles.push(context.username.toLowerCase());
  const compact = lowered.replace(SEPARATORS, "");
  return needles.some((needle) => {
    if ([...needle].length >= MIN_PERSONAL_LENGTH && lowered.includes(needle)) return true;
    const compactNeedle = needle.replace(SEPARATORS, "");
    return [...compactNeedle].length >= MIN_PERSONAL_LENGTH && compact.includes(compactNeedle);
  });
}

let commonPasswordSet: ReadonlySet<string> | undefined;

/**
 * zxcvbn-ts's offline list of common passwords (about 49,000, lower-case, ranked by frequency
 * in a large breach corpus). The package decompresses the list when it is first required, so
 * it is required here on first use, not at import; the Set is built once per process.
 */
function commonPasswords(): ReadonlySet<string> {
  if (!commonPasswordSet) {
    const { dictionary } = require("@zxcvbn-ts/language-common") as typeof ZxcvbnCommon;
    commonPasswordSet = new Set(dictionary["passwords-common"]);
  }
  return commonPasswordSet;
}

/** Loads the common-password list now (about 50 ms), e.g. at boot, instead of on the first check. */
export function preloadCommonPasswords(): void {
  commonPasswords();
}

let zxcvbn: ZxcvbnCore.ZxcvbnFactory | undefined;

/**
 * Advisory strength score from zxcvbn-ts, 0 (guessable in under 10^3 tries) to 4 (over
 * 10^10), for a strength meter. `userInputs` (email, username, names) count as known words.
 * No policy rule depends on it.
 */
export function passwordStrength(password: string, userInputs: string[] = []): 0 | 1 | 2 | 3 | 4 {
  if (!zxcvbn) {
    const { ZxcvbnFactory } = require("@zxcvbn-ts/core") as typeof ZxcvbnCore;
    const common = require("@zxcvbn-ts/language-common") as typeof ZxcvbnCommon;
    zxcvbn = new ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs });
  }
  return zxcvbn.check(password, userInputs).score;
}
