/**
 * Action names and the patterns rules match them with.
 *
 * An action name is dot-separated segments of [a-z0-9_-] (`llm.chat.stream`). A pattern is:
 * - exact: an action name (`email.send`) matches only that action;
 * - prefix: segments followed by `.*` (`llm.*`) matches every action that has those leading
 *   segments and at least one more (`llm.completion`, `llm.chat.stream`) but NOT the bare
 *   prefix (`llm`): a wildcard segment stands for one or more segments, never for none. A rule
 *   meant to cover `llm` too needs its own exact rule;
 * - `*` alone: matches every action.
 * Matching is case-sensitive and literal; an invalid pattern (rejected on write by
 * `validatePattern`) is compared literally and so matches no valid action name.
 */

export const MAX_PATTERN_LENGTH = 100;
const SEGMENT = /^[a-z0-9_-]+$/;

export type PatternKind = "EXACT" | "PREFIX" | "ANY";

function checkSegments(text: string, what: string, allowStar: boolean): string | null {
  if (typeof text !== "string") return `${what} must be a string`;
  if (text.length === 0) return `${what} is empty`;
  if (text.length > MAX_PATTERN_LENGTH) {
    return `${what} is ${text.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`;
  }
  if (allowStar && text === "*") return null;
  const segments = text.split(".");
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    if (segment === "*" && allowStar) {
      if (!last) return `${what} '${text}': '*' may only be the whole last segment`;
      continue;
    }
    if (segment.includes("*")) {
      return allowStar
        ? `${what} '${text}': '*' must be a whole segment (write 'a.*', not 'a*')`
        : `${what} '${text}' may not contain '*'`;
    }
    if (segment === "") return `${what} '${text}' has an empty segment (leading, trailing or double dot)`;
    if (!SEGMENT.test(segment)) {
      return `${what} '${text}': segment '${segment}' may only contain a-z, 0-9, '_' and '-'`;
    }
  }
  return null;
}

/** An error message for an invalid rule pattern, or null when it is valid. */
export function validatePattern(pattern: string): string | null {
  return checkSegments(pattern, "pattern", true);
}

/** An error message for an invalid action name (a pattern without `*`), or null. */
export function validateActionName(action: string): string | null {
  return checkSegments(action, "action name", false);
}

export function patternKind(pattern: string): PatternKind {
  if (pattern === "*") return "ANY";
  return pattern.endsWith(".*") ? "PREFIX" : "EXACT";
}

/** Whether `pattern` matches `action` (see the module comment for the exact semantics). */
export function matchesPattern(pattern: string, action: string): boolean {
  switch (patternKind(pattern)) {
    case "ANY":
      return true;
    case "PREFIX": {
      const prefix = pattern.slice(0, -1); // keeps the trailing dot: "llm."
      return action.length > prefix.length && action.startsWith(prefix);
    }
    case "EXACT":
      return pattern === action;
  }
}

/** Any exact pattern outranks any prefix: prefixes have at most 50 segments (100 chars). */
const EXACT_BASE = 1000;

/**
 * A rank where higher is more specific: exact > longer prefix > shorter prefix > `*`.
 * Between patterns matching one same action, equal ranks mean equal patterns.
 */
export function specificity(pattern: string): number {
  switch (patternKind(pattern)) {
    case "ANY":
      return 0;
    case "PREFIX":
      return pattern.split(".").length - 1;
    case "EXACT":
      return EXACT_BASE + pattern.split(".").length;
  }
}

/** Sort order: most specific first, then by code-unit order so the order is total. */
export function comparePatterns(a: string, b: string): number {
  return specificity(b) - specificity(a) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * An action matched by exactly the patterns that match everything `pattern` matches:
 * `email.send` for itself, `llm.~` for `llm.*`, `~` for `*` (`~` is in no valid segment, so
 * no exact or longer prefix pattern can match it). Used to explain what applies to the
 * actions `pattern` is the most specific pattern of. Not itself a valid action name.
 */
export function representativeAction(pattern: string): string {
  switch (patternKind(pattern)) {
    case "ANY":
      return "~";
    case "PREFIX":
      return `${pattern.slice(0, -1)}~`;
    case "EXACT":
      return pattern;
  }
}
