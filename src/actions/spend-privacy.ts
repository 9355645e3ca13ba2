/**
 * Spend of other tenants stays private. A GLOBAL counter sums the actions of every owner's
 * agents, so its figures (the spend on it, and the cap's limit, which with "does not fit"
 * bounds that spend) are shown only to a viewer who may read everyone's spend
 * (`spend:read`). Everyone else learns that the platform cap is reached, and which cap, but
 * no platform-wide figure. AGENT and OWNER counters belong to the viewer's own agent or
 * owner, so they are shown as they are.
 *
 * One rule, applied where a recorded or simulated decision leaves the server for a viewer:
 * the views of actions, dry runs, replays and what-ifs (resolvers/agent-action.views.ts), the
 * POLICY_DENIED error (action-decider.ts `deniedError`) and spend reports (action.service.ts).
 * What is stored (the action's reasons, the decision record, the audit row) keeps the full
 * figures: auditors read them with audit:read.
 */
import { hasPermission, type Principal } from "../auth/principal";
import { platformCapReachedMessage } from "../policy/reasons";
import type { PublicReason } from "./decision-record";

/** What a viewer may see of spend: `platform` true when it may read GLOBAL counters. */
export interface SpendSight {
  readonly platform: boolean;
}

/** Agents never see platform-wide spend; people do with spend:read. */
export function spendSight(viewer: { kind: "agent" } | { kind: "user"; user: Principal }): SpendSight {
  return { platform: viewer.kind === "user" && hasPermission(viewer.user, "spend:read") };
}

/** Sees every figure (the audit, the system). */
export const FULL_SIGHT: SpendSight = { platform: true };

/** Whether a part of a decision reads the platform-wide counter. */
const isPlatform = (part: { per?: string | null }) => part.per === "GLOBAL";

/** The reason as `sight` may see it: a GLOBAL cap's reason without its limit and spend. */
export function redactReason(reason: PublicReason, sight: SpendSight): PublicReason {
  if (sight.platform || !isPlatform(reason)) return reason;
  const rest: PublicReason = { ...reason };
  delete rest.limit;
  delete rest.spent;
  if (reason.code !== "CAP_EXCEEDED") return rest;
  const message = platformCapReachedMessage({
    capId: reason.capId ?? "",
    window: reason.window ?? "",
    windowStart: reason.windowStart ?? "",
    windowEnd: reason.windowEnd ?? null,
    scope: reason.scope ?? "GLOBAL",
    scopeId: reason.scopeId ?? null,
    policyName: reason.policyName ?? "",
    policyVersion: reason.policyVersion ?? 0,
    authority: reason.authority,
    cost: reason.cost === undefined ? null : BigInt(reason.cost),
  });
  return { ...rest, message };
}

export function redactReasons(reasons: readonly PublicReason[], sight: SpendSight): PublicReason[] {
  return reasons.map((reason) => redactReason(reason, sight));
}

/** A checked cap's figures, null where `sight` may not see them. */
export interface CapFigures<M> {
  limit: M | null;
  spentBefore: M | null;
  spentAfter: M | null;
  remaining: M | null;
}

/** A cap as `sight` may see it: a GLOBAL cap keeps whether it fits, not its figures. */
export function redactCap<T extends { per: string } & CapFigures<unknown>>(cap: T, sight: SpendSight): T {
  if (sight.platform || !isPlatform(cap)) return cap;
  return { ...cap, limit: null, spentBefore: null, spentAfter: null, remaining: null };
}
