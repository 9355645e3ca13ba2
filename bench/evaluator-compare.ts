/**
 * Our pure policy evaluator (`evaluate`) against two general-purpose authorization engines,
 * Cedar (`@cedar-policy/cedar-wasm`, its Node build) and Casbin, deciding the SAME 1,000-rule
 * allow/deny set for the SAME 2,000 requests. Reported per engine: decisions per second and
 * mean ns per decision (median of 5 rounds after a warm-up round; inside a round the engines
 * take turns every 100 requests, so they share the machine's drift), and our throughput over
 * each of theirs.
 *
 * The rule set is generated from a fixed seed: one GLOBAL policy and ROLE, USER and AGENT
 * policies, exact patterns (`svc3.op7`) and prefix patterns (`svc3.*`, `svc3.op7.*`), ALLOW
 * and DENY, some GLOBAL/ROLE DENYs locked. Precedence matters: most specific scope, then most
 * specific pattern, DENY over ALLOW at a tie, locked DENYs as floors. The result reports how
 * many requests a plain "any DENY wins" reading would get wrong, to show that it does.
 *
 * Why the comparison is fair: each engine is given the whole rule set in its own natural form
 * and decides each request from scratch; nothing is decided ahead of time for any of them.
 * - Ours: the 1,000 rules as `Policy` objects, all of them passed on every call (`evaluate`
 *   filters by scope itself, as Cedar and Casbin do), an empty spend view and no caps (caps
 *   have no counterpart in the others), cost 0. Its full `Decision` (reasons, refs) is built
 *   on every call: that is its real cost.
 * - Cedar: forbid-overrides-permit with no notion of specificity, so precedence is written
 *   the way Cedar writes exceptions: an ALLOW rule is a `permit`; a locked DENY is a plain
 *   `forbid` (a floor: exactly Cedar's semantics); an unlocked DENY is a `forbid ... unless
 *   { ... }` whose exceptions are the ALLOW rules that outrank it (higher scope, or same
 *   scope and more specific pattern) and can match one same request. This is a rule-by-rule
 *   translation, independent of the principals and actions that exist: it is equivalent to
 *   our resolution (ALLOWED iff some ALLOW matches, no locked DENY matches and every matching
 *   unlocked DENY is outranked by a matching ALLOW). The scope is the policy head: `principal
 *   in Role::"r"`, `principal == Agent::"a"`, `action == Action::"x"` or `action in
 *   Action::"x.*"` (an action's entity lists its prefix groups as parents). The policy set is
 *   pre-parsed once (`preparsePolicySet`); each call is `statefulIsAuthorized` with the
 *   request's entities (agent -> user -> roles, action -> prefix groups), as an app's entity
 *   store would hand them over.
 * - Casbin: precedence is what its `priority(p.eft) || deny` effect is for: policies sorted
 *   by priority, the first matching one decides. Priorities: locked DENYs first, then by
 *   scope and pattern specificity, DENY before ALLOW at a tie. Subjects and roles are linked
 *   with `g` (agent -> user -> role), actions matched with `keyMatch`, which for valid
 *   action names is exactly our pattern matching. Each call is `enforceSync`.
 * Before timing, the three engines' allow/deny outcomes are compared on every request; any
 * disagreement throws, because timings of engines answering different questions mean
 * nothing. Each engine keeps its own state; none can see another's answers.
 *
 * What is measured is each engine as a Node program calls it: for Cedar that is the Wasm
 * build, JS <-> Wasm conversion of the request, entities and answer included, not native
 * Rust Cedar.
 *
 * Node 20's V8 aborts the process ("unreachable code" in the deoptimizer's builtin
 * continuation) when optimized code that inlined a JS-to-Wasm call is deoptimized while the
 * three engines are timed in one process, so `compareEvaluators` turns that inlining off
 * (`--no-turbo-inline-js-wasm-calls`) for the process before the first Cedar call. Only
 * calls into Wasm (Cedar's) are affected: one unspecialized wrapper call per decision,
 * nothing next to a Cedar decision's cost.
 */
import fs from "node:fs";
import v8 from "node:v8";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { newEnforcer, newModelFromString, StringAdapter, type Enforcer } from "casbin";
import { evaluate } from "../src/policy/evaluator";
import { matchesPattern, patternKind, specificity } from "../src/policy/pattern";
import { scopeRank, type ActionRequest, type ActionRule, type Policy, type SpendView } from "../src/policy/policy-types";

export interface EngineTiming {
  engine: string;
  decisionsPerSecond: number;
  meanNsPerDecision: number;
  /** ns per decision of every round, in round order (the median is reported above). */
  roundsNsPerDecision: number[];
}

export interface EvaluatorComparison {
  rules: number;
  requests: number;
  allowed: number;
  denied: number;
  /** Requests a naive "any matching DENY wins" reading would decide differently. */
  decidedByPrecedence: number;
  /** Passes over all requests per engine per round. */
  iterations: number;
  rounds: number;
  ours: EngineTiming;
  cedar: EngineTiming;
  casbin: EngineTiming;
  /** Our decisions per second over Cedar's (> 1: ours is faster). */
  oursOverCedar: number;
  /** Our decisions per second over Casbin's (> 1: ours is faster). */
  oursOverCasbin: number;
  /** Always true in a returned result: a disagreement throws. */
  decisionsAgree: true;
  versions: { cedar: string; casbin: string };
}

const SEED = 0x5eed_2024;
const SERVICES = 16;
const OPS = 12;
const SUBS = 4;
const ROLES = 6;
const USERS = 12;
const AGENTS_PER_USER = 2;
const REQUESTS = 2_000;
const ROUNDS = 5;
/** Requests per timed block: engines take turns block by block (see `timeRound`). */
const BLOCK = 100;
const DEFAULT_ITERATIONS = 1;
const EMPTY_SPEND: SpendView = new Map();
const NOW = new Date("2025-01-15T12:00:00.000Z");

/** How many rules each scope gets, the share of prefix patterns and of ALLOW, and locking. */
const SCOPE_PLAN = [
  { scope: "GLOBAL", policies: 1, rulesEach: 400, prefixShare: 0.3, allowShare: 0.6, lockedDenyShare: 0.1 },
  { scope: "ROLE", policies: ROLES, rulesEach: 50, prefixShare: 0.3, allowShare: 0.55, lockedDenyShare: 0.1 },
  { scope: "USER", policies: USERS, rulesEach: 13, prefixShare: 0.25, allowShare: 0.5, lockedDenyShare: 0 },
  { scope: "AGENT", policies: USERS * AGENTS_PER_USER, rulesEach: 6, prefixShare: 0.2, allowShare: 0.5, lockedDenyShare: 0 },
] as const;

/** A small seeded generator (xorshift32): the same rule set and requests on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

type Random = () => number;
const pick = (random: Random, count: number) => Math.floor(random() * count);

// ---------------------------------------------------------------------------------------
// The world and the rule set, in our model.

interface Agent {
  id: string;
  ownerId: string;
  ownerRoles: string[];
}

function buildAgents(random: Random): Agent[] {
  const agents: Agent[] = [];
  for (let user = 0; user < USERS; user += 1) {
    const roles = new Set([`role${user % ROLES}`]);
    if (random() < 0.5) roles.add(`role${pick(random, ROLES)}`);
    for (let index = 0; index < AGENTS_PER_USER; index += 1) {
      agents.push({ id: `agent${user * AGENTS_PER_USER + index}`, ownerId: `user${user}`, ownerRoles: [...roles].sort() });
    }
  }
  return agents;
}

function randomPattern(random: Random, prefixShare: number): string {
  const service = `svc${pick(random, SERVICES)}`;
  const op = `${service}.op${pick(random, OPS)}`;
  if (random() < prefixShare) return random() < 0.5 ? `${service}.*` : `${op}.*`;
  return random() < 0.7 ? op : `${op}.s${pick(random, SUBS)}`;
}

function randomRule(random: Random, id: string, plan: (typeof SCOPE_PLAN)[number]): ActionRule {
  const pattern = randomPattern(random, plan.prefixShare);
  if (random() < plan.allowShare) return { id, pattern, effect: "ALLOW", locked: false };
  return { id, pattern, effect: "DENY", locked: random() < plan.lockedDenyShare };
}

function scopeId(scope: (typeof SCOPE_PLAN)[number]["scope"], index: number): string | null {
  switch (scope) {
    case "GLOBAL":
      return null;
    case "ROLE":
      return `role${index}`;
    case "USER":
      return `user${index}`;
    case "AGENT":
      return `agent${index}`;
  }
}

function buildPolicies(random: Random): Policy[] {
  const policies: Policy[] = [];
  let ruleNumber = 0;
  for (const plan of SCOPE_PLAN) {
    for (let index = 0; index < plan.policies; index += 1) {
      const id = scopeId(plan.scope, index);
      const rules = Array.from({ length: plan.rulesEach }, () => randomRule(random, `r${(ruleNumber += 1)}`, plan));
      policies.push({
        id: `${plan.scope.toLowerCase()}-${id ?? "all"}`,
        version: 1,
        name: `${plan.scope} ${id ?? "all"}`,
        scope: plan.scope,
        scopeId: id,
        authority: "OVERRIDE",
        enabled: true,
        mode: "ENFORCE",
        rules,
        caps: [],
      });
    }
  }
  return withoutCarvedOutLocks(policies);
}

/**
 * A locked DENY is a floor only where no more specific rule of its own scope matches (a
 * same-scope carve-out). First-match engines like Casbin's priorities cannot say "unless a
 * more specific rule of this scope matches", so the generated sets keep locks only where no
 * such carve-out can meet them: the three engines then agree by construction, and carve-outs
 * stay covered by the evaluator's own tests.
 */
function withoutCarvedOutLocks(policies: Policy[]): Policy[] {
  const rules = scopedRules(policies);
  for (const lock of rules.filter((rule) => rule.locked)) {
    const carved = rules.some(
      (other) =>
        other !== lock &&
        other.policy.scope === lock.policy.scope &&
        scopesCanMeet(other.policy, lock.policy) &&
        specificity(other.pattern) > specificity(lock.pattern) &&
        patternsOverlap(other.pattern, lock.pattern),
    );
    if (carved) (lock.policy.rules.find((rule) => rule.id === lock.id) as ActionRule).locked = false;
  }
  return policies;
}

/** Mostly actions the rules talk about (with or without a sub-action), some nobody does. */
function buildRequests(random: Random, agents: readonly Agent[]): ActionRequest[] {
  return Array.from({ length: REQUESTS }, () => {
    const agent = agents[pick(random, agents.length)] as Agent;
    const roll = random();
    const op = `svc${pick(random, SERVICES)}.op${pick(random, OPS)}`;
    const action = roll < 0.15 ? `ext${pick(random, 4)}.op${pick(random, OPS)}` : roll < 0.55 ? `${op}.s${pick(random, SUBS)}` : op;
    return { agentId: agent.id, ownerId: agent.ownerId, ownerRoles: agent.ownerRoles, action, estimatedCost: 0n };
  });
}

// ---------------------------------------------------------------------------------------
// Precedence, restated pairwise, for the Cedar and Casbin translations.

interface ScopedRule extends ActionRule {
  key: string;
  policy: Policy;
}

function scopedRules(policies: readonly Policy[]): ScopedRule[] {
  return policies.flatMap((policy) => policy.rules.map((rule) => ({ ...rule, key: `${policy.id}/${rule.id}`, policy })));
}

/** Whether `winner` takes precedence over `loser` when both match: scope, then pattern. */
function outranks(winner: ScopedRule, loser: ScopedRule): boolean {
  const byScope = scopeRank(winner.policy.scope) - scopeRank(loser.policy.scope);
  return byScope > 0 || (byScope === 0 && specificity(winner.pattern) > specificity(loser.pattern));
}

/** Whether some valid action name matches both patterns. */
function patternsOverlap(a: string, b: string): boolean {
  const kindA = patternKind(a);
  const kindB = patternKind(b);
  if (kindA === "ANY" || kindB === "ANY") return true;
  if (kindA === "EXACT") return kindB === "EXACT" ? a === b : matchesPattern(b, a);
  if (kindB === "EXACT") return matchesPattern(a, b);
  const [prefixA, prefixB] = [a.slice(0, -1), b.slice(0, -1)];
  return prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA);
}

/** Whether one request can be in both scopes: one owner and one agent per request. */
function scopesCanMeet(a: Policy, b: Policy): boolean {
  const single = a.scope === "USER" || a.scope === "AGENT";
  return !(single && a.scope === b.scope && a.scopeId !== b.scopeId);
}

/** The ALLOW rules that override `deny` wherever both match (none for a locked DENY). */
function exceptionsTo(deny: ScopedRule, rules: readonly ScopedRule[]): ScopedRule[] {
  if (deny.locked) return [];
  return rules.filter(
    (rule) =>
      rule.effect === "ALLOW" &&
      outranks(rule, deny) &&
      patternsOverlap(rule.pattern, deny.pattern) &&
      scopesCanMeet(rule.policy, deny.policy),
  );
}

function appliesToRequest(policy: Policy, request: ActionRequest): boolean {
  if (policy.scope === "GLOBAL") return true;
  if (policy.scope === "ROLE") return request.ownerRoles.includes(policy.scopeId ?? "");
  return policy.scopeId === (policy.scope === "USER" ? request.ownerId : request.agentId);
}

/** "Any matching DENY wins, else any ALLOW": the reading precedence is there to correct. */
function naiveDecision(rules: readonly ScopedRule[], request: ActionRequest): boolean {
  const matching = rules.filter((rule) => appliesToRequest(rule.policy, request) && matchesPattern(rule.pattern, request.action));
  return matching.some((rule) => rule.effect === "ALLOW") && !matching.some((rule) => rule.effect === "DENY");
}

// ---------------------------------------------------------------------------------------
// The three engines. Each is built once, then decides request i by index.

interface Engine {
  name: string;
  decide(index: number): boolean;
}

function oursEngine(policies: readonly Policy[], requests: readonly ActionRequest[]): Engine {
  return {
    name: "ours (evaluate)",
    decide: (index) => evaluate(policies, requests[index] as ActionRequest, EMPTY_SPEND, NOW).outcome === "ALLOWED",
  };
}

function cedarPrincipalTest(policy: Policy): string | null {
  switch (policy.scope) {
    case "GLOBAL":
      return null;
    case "ROLE":
      return `principal in Role::"${policy.scopeId}"`;
    case "USER":
      return `principal in User::"${policy.scopeId}"`;
    case "AGENT":
      return `principal == Agent::"${policy.scopeId}"`;
  }
}

function cedarActionTest(pattern: string): string | null {
  switch (patternKind(pattern)) {
    case "ANY":
      return null;
    case "PREFIX":
      return `action in Action::"${pattern}"`;
    case "EXACT":
      return `action == Action::"${pattern}"`;
  }
}

function cedarCondition(rule: ScopedRule): string {
  const tests = [cedarPrincipalTest(rule.policy), cedarActionTest(rule.pattern)].filter((test) => test !== null);
  return tests.length === 0 ? "true" : `(${tests.join(" && ")})`;
}

function cedarPolicy(rule: ScopedRule, rules: readonly ScopedRule[]): string {
  const head = `(${cedarPrincipalTest(rule.policy) ?? "principal"}, ${cedarActionTest(rule.pattern) ?? "action"}, resource)`;
  if (rule.effect === "ALLOW") return `permit ${head};`;
  const exceptions = exceptionsTo(rule, rules);
  if (exceptions.length === 0) return `forbid ${head};`;
  return `forbid ${head} unless { ${exceptions.map(cedarCondition).join(" || ")} };`;
}

/** `svc3.op7.s2` belongs to the groups `svc3.op7.*` and `svc3.*`. */
function actionGroups(action: string): string[] {
  const segments = action.split(".");
  return segments.slice(1).map((_, index) => `${segments.slice(0, segments.length - 1 - index).join(".")}.*`);
}

function cedarEntities(request: ActionRequest): cedar.EntityJson[] {
  return [
    { uid: { type: "Agent", id: request.agentId }, attrs: {}, parents: [{ type: "User", id: request.ownerId }] },
    { uid: { type: "User", id: request.ownerId }, attrs: {}, parents: request.ownerRoles.map((id) => ({ type: "Role", id })) },
    { uid: { type: "Action", id: request.action }, attrs: {}, parents: actionGroups(request.action).map((id) => ({ type: "Action", id })) },
  ];
}

const CEDAR_POLICY_SET_ID = "evaluator-compare";

function cedarEngine(rules: readonly ScopedRule[], requests: readonly ActionRequest[]): Engine {
  const staticPolicies = Object.fromEntries(rules.map((rule) => [rule.key, cedarPolicy(rule, rules)]));
  const parsed = cedar.preparsePolicySet(CEDAR_POLICY_SET_ID, { staticPolicies });
  if (parsed.type !== "success") throw new Error(`cedar: policy set rejected: ${JSON.stringify(parsed.errors)}`);
  const calls: cedar.StatefulAuthorizationCall[] = requests.map((request) => ({
    principal: { type: "Agent", id: request.agentId },
    action: { type: "Action", id: request.action },
    resource: { type: "Resource", id: "any" },
    context: {},
    preparsedPolicySetId: CEDAR_POLICY_SET_ID,
    entities: cedarEntities(request),
  }));
  return {
    name: "cedar-wasm (statefulIsAuthorized)",
    decide: (index) => {
      const answer = cedar.statefulIsAuthorized(calls[index] as cedar.StatefulAuthorizationCall);
      if (answer.type !== "success" || answer.response.diagnostics.errors.length > 0) {
        throw new Error(`cedar: request ${index} failed: ${JSON.stringify(answer)}`);
      }
      return answer.response.decision === "allow";
    },
  };
}

const CASBIN_MODEL = `
[request_definition]
r = sub, act

[policy_definition]
p = priority, sub, act, eft

[role_definition]
g = _, _

[policy_effect]
e = priority(p.eft) || deny

[matchers]
m = keyMatch(r.act, p.act) && (p.sub == "*" || g(r.sub, p.sub))
`;

/** Lower runs first: locked DENYs, then most specific scope and pattern, DENY before ALLOW. */
function casbinPriority(rule: ScopedRule): number {
  if (rule.locked && rule.effect === "DENY") return 0;
  const rank = (3 - scopeRank(rule.policy.scope)) * 10_000 + (5_000 - specificity(rule.pattern));
  return 1 + rank * 2 + (rule.effect === "DENY" ? 0 : 1);
}

function casbinSubject(policy: Policy): string {
  return policy.scope === "GLOBAL" ? "*" : `${policy.scope.toLowerCase()}:${policy.scopeId}`;
}

function casbinPolicyText(rules: readonly ScopedRule[], agents: readonly Agent[]): string {
  const policyLines = rules.map(
    (rule) => `p, ${casbinPriority(rule)}, ${casbinSubject(rule.policy)}, ${rule.pattern}, ${rule.effect.toLowerCase()}`,
  );
  const owners = new Map(agents.map((agent) => [agent.ownerId, agent.ownerRoles]));
  const roleLines = [
    ...agents.map((agent) => `g, agent:${agent.id}, user:${agent.ownerId}`),
    ...[...owners].flatMap(([owner, roles]) => roles.map((role) => `g, user:${owner}, role:${role}`)),
  ];
  return [...policyLines, ...roleLines].join("\n");
}

async function casbinEngine(rules: readonly ScopedRule[], agents: readonly Agent[], requests: readonly ActionRequest[]): Promise<Engine> {
  const enforcer: Enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(casbinPolicyText(rules, agents)));
  const subjects = requests.map((request) => `agent:${request.agentId}`);
  const actions = requests.map((request) => request.action);
  return {
    name: "casbin (enforceSync)",
    decide: (index) => enforcer.enforceSync(subjects[index], actions[index]),
  };
}

// ---------------------------------------------------------------------------------------
// Checking and timing.

function decideAll(engine: Engine, count: number): boolean[] {
  return Array.from({ length: count }, (_, index) => engine.decide(index));
}

/** Throws unless every engine gave the reference engine's outcome on every request. */
function assertAgreement(reference: boolean[], engines: readonly Engine[], requests: readonly ActionRequest[]): void {
  for (const engine of engines) {
    const decisions = decideAll(engine, requests.length);
    const index = decisions.findIndex((allowed, at) => allowed !== reference[at]);
    if (index !== -1) {
      const request = requests[index] as ActionRequest;
      throw new Error(
        `${engine.name} disagrees on request ${index} (${request.agentId} ${request.action}): ` +
          `${decisions[index] ? "allow" : "deny"} vs ${reference[index] ? "allow" : "deny"}`,
      );
    }
  }
}

interface Tally {
  ns: number;
  allowed: number;
}

/** Adds one engine's time and allow count over requests [from, to) to its tally. */
function timeBlock(engine: Engine, from: number, to: number, tally: Tally): void {
  let allowed = 0;
  const started = process.hrtime.bigint();
  for (let index = from; index < to; index += 1) if (engine.decide(index)) allowed += 1;
  tally.ns += Number(process.hrtime.bigint() - started);
  tally.allowed += allowed;
}

/**
 * One round: `iterations` passes over the requests in blocks of BLOCK, every engine timed on
 * each block in turn (the order rotating by round and block), so all three see the same
 * machine load even when it drifts within the round. Returns ns per decision per engine and
 * checks every engine's answers are the ones it gave before timing.
 */
function timeRound(engines: readonly Engine[], count: number, iterations: number, expectedAllowed: number, round: number): number[] {
  const tallies = engines.map((): Tally => ({ ns: 0, allowed: 0 }));
  for (let pass = 0; pass < iterations; pass += 1) {
    for (let from = 0, block = 0; from < count; from += BLOCK, block += 1) {
      for (let offset = 0; offset < engines.length; offset += 1) {
        const at = (round + block + offset) % engines.length;
        timeBlock(engines[at] as Engine, from, Math.min(from + BLOCK, count), tallies[at] as Tally);
      }
    }
  }
  return tallies.map((tally, at) => {
    if (tally.allowed !== expectedAllowed * iterations) throw new Error(`${engines[at]?.name}: decisions changed while timing`);
    return tally.ns / (count * iterations);
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The median round of each engine (rounds after one warm-up round that is not kept). */
function timeEngines(engines: readonly Engine[], count: number, iterations: number, expectedAllowed: number): EngineTiming[] {
  timeRound(engines, count, 1, expectedAllowed, 0);
  const rounds = Array.from({ length: ROUNDS }, (_, round) => timeRound(engines, count, iterations, expectedAllowed, round));
  return engines.map((engine, at) => {
    const perRound = rounds.map((round) => round[at] as number);
    const ns = median(perRound);
    return { engine: engine.name, decisionsPerSecond: 1e9 / ns, meanNsPerDecision: ns, roundsNsPerDecision: perRound };
  });
}

/** The comparison as a small table, for `evaluator-compare.main.ts` and `npm run bench`. */
export function formatComparison(result: EvaluatorComparison): string {
  const rows = [result.ours, result.cedar, result.casbin];
  const width = Math.max(...rows.map((row) => row.engine.length));
  const lines = [
    `evaluators: ${result.rules} rules, ${result.requests} requests (${result.allowed} allowed, ${result.denied} denied, ` +
      `${result.decidedByPrecedence} decided by precedence), ${result.rounds} rounds x ${result.iterations} pass(es), medians`,
    ...rows.map(
      (row) =>
        `  ${row.engine.padEnd(width)}  ${row.decisionsPerSecond.toFixed(0).padStart(10)} decisions/s  ` +
        `${row.meanNsPerDecision.toFixed(0).padStart(9)} ns/decision`,
    ),
    `  ours / cedar   ${result.oursOverCedar.toFixed(2)}   (cedar-wasm ${result.versions.cedar})`,
    `  ours / casbin  ${result.oursOverCasbin.toFixed(2)}   (casbin ${result.versions.casbin})`,
    `  all three engines agree on every request`,
  ];
  return `${lines.join("\n")}\n`;
}

function casbinVersion(): string {
  return (JSON.parse(fs.readFileSync(require.resolve("casbin/package.json"), "utf8")) as { version: string }).version;
}

/** Avoids the V8 abort described at the top; must run before Cedar is first called. */
function disableJsToWasmInlining(): void {
  v8.setFlagsFromString("--no-turbo-inline-js-wasm-calls");
}

export async function compareEvaluators(options: { iterations?: number } = {}): Promise<EvaluatorComparison> {
  disableJsToWasmInlining();
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`iterations must be a positive integer, not ${iterations}`);
  const random = seededRandom(SEED);
  const agents = buildAgents(random);
  const policies = buildPolicies(random);
  const requests = buildRequests(random, agents);
  const rules = scopedRules(policies);

  const ours = oursEngine(policies, requests);
  const engines = [ours, cedarEngine(rules, requests), await casbinEngine(rules, agents, requests)];
  const reference = decideAll(ours, requests.length);
  assertAgreement(reference, engines.slice(1), requests);
  const allowed = reference.filter(Boolean).length;

  const [oursTiming, cedarTiming, casbinTiming] = timeEngines(engines, requests.length, iterations, allowed) as [
    EngineTiming,
    EngineTiming,
    EngineTiming,
  ];
  return {
    rules: rules.length,
    requests: requests.length,
    allowed,
    denied: requests.length - allowed,
    decidedByPrecedence: requests.filter((request, index) => naiveDecision(rules, request) !== reference[index]).length,
    iterations,
    rounds: ROUNDS,
    ours: oursTiming,
    cedar: cedarTiming,
    casbin: casbinTiming,
    oursOverCedar: oursTiming.decisionsPerSecond / cedarTiming.decisionsPerSecond,
    oursOverCasbin: oursTiming.decisionsPerSecond / casbinTiming.decisionsPerSecond,
    decisionsAgree: true,
    versions: { cedar: cedar.getCedarVersion(), casbin: casbinVersion() },
  };
}
