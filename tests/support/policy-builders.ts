/** Builders for policy-engine tests: policies, rules, caps, requests and spend views. */
import {
  capKey,
  serializeCapKey,
  type ActionRequest,
  type ActionRule,
  type CapCounter,
  type CapWindow,
  type Money,
  type Policy,
  type PolicyAuthority,
  type PolicyMode,
  type PolicyScope,
  type RuleEffect,
  type SpendCap,
  type SpendView,
} from "../../src/policy/policy-types";

/** Whole currency units as micro-units. */
export const u = (units: number): Money => BigInt(units) * 1_000_000n;
export const NOW = new Date("2024-03-13T10:30:00.000Z"); // a Wednesday

export function rule(id: string, pattern: string, effect: RuleEffect, extra: Partial<ActionRule> = {}): ActionRule {
  return { id, pattern, effect, locked: false, ...extra };
}
export function cap(id: string, per: CapCounter, window: CapWindow, limit: Money, locked = false): SpendCap {
  return { id, per, window, limit, locked };
}
export const DEFAULT_SCOPE_ID: Record<PolicyScope, string | null> = { GLOBAL: null, ROLE: "MANAGER", USER: "u1", AGENT: "a1" };
export interface PolicyParts {
  rules?: ActionRule[];
  caps?: SpendCap[];
  scopeId?: string | null;
  enabled?: boolean;
  mode?: PolicyMode;
  authority?: PolicyAuthority;
}
export function policy(id: string, scope: PolicyScope, parts: PolicyParts = {}): Policy {
  return {
    id,
    version: 1,
    name: `${id} policy`,
    scope,
    scopeId: parts.scopeId === undefined ? DEFAULT_SCOPE_ID[scope] : parts.scopeId,
    enabled: parts.enabled ?? true,
    mode: parts.mode ?? "ENFORCE",
    authority: parts.authority ?? "OVERRIDE",
    rules: parts.rules ?? [],
    caps: parts.caps ?? [],
  };
}
/** An AGENT policy its owner wrote without policies:write: a restriction layer. */
export function restriction(id: string, parts: Omit<PolicyParts, "authority"> = {}): Policy {
  return policy(id, "AGENT", { ...parts, authority: "RESTRICTION" });
}
export function request(action: string, estimatedCost: Money, extra: Partial<ActionRequest> = {}): ActionRequest {
  return { agentId: "a1", ownerId: "u1", ownerRoles: ["USER", "MANAGER"], action, estimatedCost, ...extra };
}
export function spendView(now: Date, entries: [CapCounter, CapWindow, Money][]): SpendView {
  const req = request("x", 0n);
  return new Map(entries.map(([per, window, amount]) => [serializeCapKey(capKey({ per, window }, req, now)), amount]));
}
export const allowAll = (caps: SpendCap[] = []) => policy("g", "GLOBAL", { rules: [rule("all", "*", "ALLOW")], caps });
