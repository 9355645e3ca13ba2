import { getGraphQLRateLimiter } from "graphql-rate-limit";
import type { GraphQLResolveInfo } from "graphql";
import { UseMiddleware, type MiddlewareFn } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { AtomicHitStore } from "./atomic-hit-store";
import type { RateLimiter } from "./rate-limiter";

export { createRateLimiter, type RateLimiter } from "./rate-limiter";

/** Who a rule counts: the client ip, the ip per field, or a key taken from the arguments. */
export type RateLimitSubject = "ip" | "ip+field" | ((args: any, ctx: GraphQLContext) => string | undefined);

export interface RateLimitRule {
  /** Names the counter. Rules with one name share a counter across fields (not "ip+field"), so they must agree on window and max. */
  name: string;
  /** A duration as graphql-rate-limit reads it (the `ms` package): "15m", "1h", "30 s", "2 days"; a bare number is milliseconds. */
  window: string;
  /** Calls allowed per window; the next one is refused until the oldest leaves the window. */
  max: number;
  /** "ip": per client ip (requests without one share an "unknown" counter); "ip+field": per ip and field; a function: its key, or `undefined` to skip the rule. */
  by: RateLimitSubject;
}

/** The context the middleware needs: `rateLimiter` joins `GraphQLContext` when it is wired in. */
type RateLimitContext = GraphQLContext & { rateLimiter: RateLimiter };

/**
 * Limits calls of a resolver field. Each rule counts one hit per call, aliases included (each
 * alias is its own call), and the rules are checked in order: the first that refuses throws
 * `RateLimitedError` (RATE_LIMITED, `extensions.retryAfter` in seconds) and later rules are
 * not counted. Every decision is one atomic store operation (see AtomicHitStore).
 *
 * Placement: above or below `@Mutation`/`@Query` alike (type-graphql collects middleware by
 * class and method). Among several middleware decorators on one method, the lowest written
 * runs first. On `@auth` fields the access check runs before it, so callers refused access
 * spend nothing.
 *
 * ```ts
 * @Mutation(() => LoginResult)
 * @Public()
 * @RateLimit(
 *   { name: "login-ip", window: "15m", max: 50, by: "ip" },
 *   { name: "login-identifier", window: "15m", max: 5, by: (args) => args.input?.identifier?.toLowerCase() },
 * )
 * async login(...) {}
 * ```
 */
export function RateLimit(...rules: RateLimitRule[]): MethodDecorator {
  if (rules.length === 0) throw new Error("@RateLimit needs at least one rule");
  for (const rule of rules) assertRule(rule);
  const middleware: MiddlewareFn<RateLimitContext> = async ({ root, args, context, info }, next) => {
    for (const rule of rules) await enforce(rule, { parent: root, args, context, info });
    return next();
  };
  return UseMiddleware(middleware);
}

interface FieldCall {
  parent: unknown;
  args: Record<string, unknown>;
  context: RateLimitContext;
  info: GraphQLResolveInfo;
}

/**
 * One rule, one call. graphql-rate-limit does what it does well (names the caller through
 * `identifyContext`, builds the field identity, parses the window); the store it is given
 * makes the decision atomically and throws when the call is refused.
 */
async function enforce(rule: RateLimitRule, call: FieldCall): Promise<void> {
  const subject = subjectOf(rule, call);
  if (subject === undefined) return;
  if (!call.context.rateLimiter) throw new Error("The GraphQL context has no rateLimiter");
  const store = new AtomicHitStore(call.context.rateLimiter, {
    name: rule.name,
    window: rule.window,
    max: rule.max,
    perFieldOf: rule.by === "ip+field" ? call.info.parentType.name : undefined,
  });
  const limiter = getGraphQLRateLimiter({ store, identifyContext: () => subject });
  const refusal = await limiter(call, { window: rule.window, max: rule.max });
  if (refusal !== undefined) {
    throw new Error(`Rate limit "${rule.name}": graphql-rate-limit refused by itself; only the atomic store may decide`);
  }
}

function subjectOf(rule: RateLimitRule, call: FieldCall): string | undefined {
  if (typeof rule.by === "function") return rule.by(call.args, call.context);
  return call.context.meta.ip ?? "unknown";
}

function assertRule(rule: RateLimitRule): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(rule.name)) {
    throw new Error(`@RateLimit: rule name "${rule.name}" must be letters, digits, "_", "." or "-"`);
  }
  if (!Number.isSafeInteger(rule.max) || rule.max < 1) {
    throw new Error(`@RateLimit "${rule.name}": max must be a whole number >= 1`);
  }
  if (typeof rule.window !== "string" || rule.window.trim() === "") {
    throw new Error(`@RateLimit "${rule.name}": window must be a duration such as "15m"`);
  }
  if (rule.by !== "ip" && rule.by !== "ip+field" && typeof rule.by !== "function") {
    throw new Error(`@RateLimit "${rule.name}": by must be "ip", "ip+field" or a function`);
  }
}
