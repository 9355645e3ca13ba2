import { CombinedGraphQLErrors } from "@apollo/client/errors";

/**
 * What to tell the person about a failed request: the server's own message (its messages are
 * written for clients and never carry internals), or that the server could not be reached.
 */
export function errorMessage(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) {
    const first = error.errors[0];
    if (first?.extensions?.code === "RATE_LIMITED") {
      const retryAfter = first.extensions.retryAfter;
      return `Too many attempts. Try again${typeof retryAfter === "number" ? ` in ${retryAfter} s` : " later"}.`;
    }
    return first?.message ?? "The request was refused.";
  }
  return "Could not reach the server. Check your connection and try again.";
}
