/**
 * How the pure evaluator's cost grows with the rules of one agent's chain: 1,000, 10,000 and
 * 100,000 action rules spread over a GLOBAL, a ROLE, a USER and an AGENT policy (exact and
 * prefix patterns, ALLOW and DENY, some locked), the same mix at every size. Two ways in:
 * - prepared: the chain prepared once (`prepareChain`), as the action path caches it per
 *   agent; its rules are indexed by pattern, so a decision should cost the depth of the
 *   action name, whatever the rule count;
 * - raw: the policy list passed on every call, so every call scans every rule (linear by
 *   nature: the figure the prepared path is compared to).
 * Both must give the same decision on every request timed; any difference throws.
 */
import { evaluate, prepareChain } from "../src/policy/evaluator";
import type { ActionRequest, ActionRule, Policy, SpendView } from "../src/policy/policy-types";
import { seededRandom } from "./evaluator-compare";

const EMPTY_SPEND: SpendView = new Map();
const NOW = new Date("2025-01-15T12:00:00.000Z");
const REQUESTS = 2_000;
/** Raw calls scan every rule: fewer of them at 100,000 rules keep the section short. */
const RAW_REQUESTS = 200;
const ROUNDS = 5;
const TARGET = { agentId: "agent0", ownerId: "user0", ownerRoles: ["role0"] } as const;
const SHARES = [
  { scope: "GLOBAL", scopeId: null, share: 0.6 },
  { scope: "ROLE", scopeId: "role0", share: 0.25 },
  { scope: "USER", scopeId: "user0", share: 0.1 },
  { scope: "AGENT", scopeId: "agent0", share: 0.05 },
] as const;

export interface ScaleRow {
  rules: number;
  preparedNs: number;
  rawNs: number;
  allowedShare: number;
}

/** The chain: services grow with the rule count (20 rules a service), so names stay distinct. */
function chainOf(rules: number, random: () => number): { policies: Policy[]; services: number } {
  const services = Math.max(10, Math.floor(rules / 20));
  const pick = (count: number) => Math.floor(random() * count);
  let number = 0;
  const policies = SHARES.map(({ scope, scopeId, share }): Policy => ({
    id: `${scope.toLowerCase()}-policy`,
    version: 1,
    name: scope,
    scope,
    scopeId,
    enabled: true,
    mode: "ENFORCE",
    authority: "OVERRIDE",
    caps: [],
    rules: Array.from({ length: Math.round(rules * share) }, (): ActionRule => {
      const op = `svc${pick(services)}.op${pick(8)}`;
      const roll = random();
      const pattern = roll < 0.15 ? `svc${pick(services)}.*` : roll < 0.3 ? `${op}.*` : roll < 0.8 ? op : `${op}.s${pick(4)}`;
      const allow = random() < 0.6;
      return { id: `r${(number += 1)}`, pattern, effect: allow ? "ALLOW" : "DENY", locked: !allow && scope === "GLOBAL" && random() < 0.05 };
    }),
  }));
  return { policies, services };
}

function requestsOf(count: number, services: number, random: () => number): ActionRequest[] {
  const pick = (n: number) => Math.floor(random() * n);
  return Array.from({ length: count }, () => {
    const op = `svc${pick(services)}.op${pick(8)}`;
    const roll = random();
    const action = roll < 0.1 ? `ext.op${pick(8)}` : roll < 0.5 ? `${op}.s${pick(4)}` : op;
    return { ...TARGET, ownerRoles: [...TARGET.ownerRoles], action, estimatedCost: 0n, runId: null };
  });
}

function nsPerDecision(chain: Parameters<typeof evaluate>[0], requests: readonly ActionRequest[]): number {
  const rounds: number[] = [];
  for (let round = 0; round <= ROUNDS; round += 1) {
    const started = process.hrtime.bigint();
    for (const request of requests) evaluate(chain, request, EMPTY_SPEND, NOW);
    // Round 0 warms the JIT and is not kept.
    if (round > 0) rounds.push(Number(process.hrtime.bigint() - started) / requests.length);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(rounds.length / 2)] as number;
}

export function evaluatorScale(sizes: readonly number[] = [1_000, 10_000, 100_000]): ScaleRow[] {
  return sizes.map((rules) => {
    const random = seededRandom(rules);
    const { policies, services } = chainOf(rules, random);
    const requests = requestsOf(REQUESTS, services, random);
    const prepared = prepareChain(policies, TARGET);
    const rawRequests = requests.slice(0, RAW_REQUESTS);
    let allowed = 0;
    for (const request of rawRequests) {
      const fromPrepared = evaluate(prepared, request, EMPTY_SPEND, NOW);
      const fromRaw = evaluate(policies, request, EMPTY_SPEND, NOW);
      if (JSON.stringify(fromPrepared, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)) !==
        JSON.stringify(fromRaw, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))) {
        throw new Error(`prepared and raw chains disagree on ${request.action} at ${rules} rules`);
      }
      if (fromRaw.outcome === "ALLOWED") allowed += 1;
    }
    return { rules, preparedNs: nsPerDecision(prepared, requests), rawNs: nsPerDecision(policies, rawRequests), allowedShare: allowed / rawRequests.length };
  });
}

export function formatEvaluatorScale(rows: readonly ScaleRow[]): string {
  const lines = [
    "evaluator by rules in one agent's chain (µs a decision, median of 5 rounds):",
    "  rules      prepared (indexed)   raw (scans every rule)",
    ...rows.map(
      (row) =>
        `  ${row.rules.toLocaleString("en-US").padStart(7)}    ${(row.preparedNs / 1000).toFixed(1).padStart(8)} µs          ${(row.rawNs / 1000).toFixed(1).padStart(8)} µs   (${Math.round(row.allowedShare * 100)}% allowed)`,
    ),
  ];
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first && last && first !== last) {
    lines.push(`  prepared, ${last.rules.toLocaleString("en-US")} rules / ${first.rules.toLocaleString("en-US")} rules   ${(last.preparedNs / first.preparedNs).toFixed(2)}   (target: flat)`);
  }
  return `${lines.join("\n")}\n`;
}
