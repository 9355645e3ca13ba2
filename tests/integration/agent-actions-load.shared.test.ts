import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { asc, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type Database } from "../../src/db/database";
import { agentActions, auditEvents, spendCounters } from "../../src/db/schema";
import {
  CancelAgentActionDocument,
  SettleAgentActionDocument,
  StartRunDocument,
  SubmitAgentActionDocument,
  UpdatePolicyDocument,
  type AgentActionInput,
  type PolicyInput,
  type SessionCredentialsFragment,
} from "../generated/graphql";
import { createAgentWithKey, createPolicy, units, type AgentWithKey } from "../support/agent-fixtures";
import { createPostgresDatabase, REDIS_URL, uniqueRedisPrefix } from "../support/backend";
import { loginUser, registerUser } from "../support/fixtures";
import type { GraphQLClient, GraphQLResponse } from "../support/graphql-client";
import { startServerProcess, type ServerProcess } from "../support/server-process";

/**
 * Three server processes on one PostgreSQL and one Redis decide a concurrent load of agent
 * actions (two owners, four agents, AGENT / OWNER / GLOBAL day caps with little room, one
 * agent's day cap on `llm.completion` only, velocity caps of actions per agent and day, and
 * for the actions that name one of their agent's runs a spend cap and a velocity cap per run;
 * exact and racing retries, settles and cancels) as one server would:
 * - no cap is ever exceeded: the ledger is replayed in audit order (the order the decisions
 *   committed in) and every decision must have read exactly the spend that replay holds;
 * - every counter equals the sum of the actions charged on it (reservations and settled costs;
 *   a velocity counter: the number of actions allowed on it, which no settle or cancel moves);
 * - settles go up to twice the estimate (the default ceiling): an overrun is accepted only as
 *   far as the caps' room (plus the GLOBAL cap's overrun allowance) goes, so no counter ends
 *   above its cap by more than that cap's allowance; a refused settle charged nothing and left
 *   its reservation held;
 * - every acknowledged answer (allowed, or POLICY_DENIED) has exactly one action row and one
 *   'agent.action.decided' audit row, and every retry of a key got the first decision's id.
 * Then one process is SIGKILLed mid-load: everything it acknowledged is recorded, what it left
 * half-done left no trace on the ledger, and the agents' retries on the survivors decide each
 * key exactly once.
 */

const ADMIN_EMAIL = "load-admin@example.com";
const ADMIN_PASSWORD = "load-admin-password-1";
const PROCESSES = 3;
const CONCURRENCY = 24;

type Per = "AGENT" | "OWNER" | "GLOBAL" | "RUN";
/**
 * The three spend caps per counter; for the least busy agent (HOT) a tight `llm.completion`
 * cap (COMPLETIONS) and a tight velocity cap (HOT_ACTIONS: allowed actions a day), which bind
 * after a few actions (every failing cap is reported, so they show among the denials whatever
 * else binds); ACTIONS for the others' velocity caps, with room to spare, so the three spend
 * caps bind as they would without the new kinds. RUN and RUN_ACTIONS: every run's budget
 * (units) and its velocity cap (allowed actions, whole run), below an agent's, so they bind
 * for the runs of the busy agents.
 */
type Limits = Record<Per | "COMPLETIONS" | "ACTIONS" | "HOT_ACTIONS" | "RUN_ACTIONS", number>;
/** Day caps in whole units; the crash phase raises them (a policy update) to make room again. */
const LIMITS: Record<"steady" | "crash", Limits> = {
  steady: { AGENT: 10, OWNER: 14, GLOBAL: 24, COMPLETIONS: 2, ACTIONS: 1_000, HOT_ACTIONS: 1, RUN: 3, RUN_ACTIONS: 1 },
  crash: { AGENT: 24, OWNER: 40, GLOBAL: 60, COMPLETIONS: 4, ACTIONS: 1_000, HOT_ACTIONS: 4, RUN: 8, RUN_ACTIONS: 3 },
};
/** The agent whose velocity cap is tight (the one acting least often, AGENT_WEIGHTS). */
const HOT = 3;

/** The velocity limit of a counter (by its key or subject): a run's, or its agent's. */
function actionsLimit(counter: string, limits: Limits): number {
  if (runIds.some((id) => counter.endsWith(id))) return limits.RUN_ACTIONS;
  return counter.endsWith(agents[HOT]!.id) ? limits.HOT_ACTIONS : limits.ACTIONS;
}

/** Which limit a cap line of a decision's audit row is checked against. */
function limitOf(cap: CapLine, limits: Limits): bigint {
  if (cap.measure === "ACTIONS") return BigInt(actionsLimit(cap.counter, limits));
  if (cap.pattern !== undefined) return BigInt(units(limits.COMPLETIONS));
  return BigInt(units(limits[cap.per]));
}
/** Overrun allowance of each kind of cap, in whole units: how far a settle may take it past its limit. */
const ALLOWANCE: Record<Per, number> = { AGENT: 0, OWNER: 0, GLOBAL: 2, RUN: 0 };
/** Runs per agent; most actions name one of their agent's runs. */
const RUNS_PER_AGENT = 2;
/** How often each agent acts: skewed, so each kind of cap runs out for someone. */
const AGENT_WEIGHTS = [0.4, 0.2, 0.25, 0.15];

let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
let ledger: Database;
let dataDir: string;
let processes: ServerProcess[] = [];
/** Processes this test SIGKILLed: a failed request to one of them is unacknowledged, not a bug. */
const killed = new Set<number>();
let admin: SessionCredentialsFragment;
let agents: AgentWithKey[] = [];
/** The runs of each agent (by the agent's index), started by the agents themselves. */
let runsOf: string[][] = [];
let runIds: string[] = [];
let policies: { id: string; input: (limits: Limits) => PolicyInput }[] = [];

beforeAll(async () => {
  database = await createPostgresDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ais-load-"));
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    DATA_DIR: dataDir,
    BCRYPT_COST: "4",
    MFA_REQUIRED_ROLES: "none",
    RATE_LIMIT_SCALE: "1000",
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
  };
  processes = await Promise.all(Array.from({ length: PROCESSES }, () => startServerProcess(env)));
  ledger = openPostgres(database.url, { poolMax: 2 });
  admin = await loginUser(processes[0]!.client, ADMIN_EMAIL, ADMIN_PASSWORD);
  await createWorld();
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(processes.map((process) => process.stop()));
  await ledger?.close();
  await database?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Two owners with two agents each, and a policy per tier with its day cap. */
async function createWorld(): Promise<void> {
  for (let owner = 0; owner < 2; owner += 1) {
    const client = processes[owner]!.client;
    const credentials = await registerUser(client);
    for (let n = 0; n < 2; n += 1) agents.push(await createAgentWithKey(client, credentials, `load agent ${owner}.${n}`));
  }
  runsOf = [];
  for (const agent of agents) {
    const runs: string[] = [];
    for (let n = 0; n < RUNS_PER_AGENT; n += 1) {
      const { startRun } = await processes[n % PROCESSES]!.client.ok(StartRunDocument, { input: { name: `load run ${n}` } }, agent.auth);
      runs.push(startRun.id);
    }
    runsOf.push(runs);
  }
  runIds = runsOf.flat();
  const inputs: ((limits: Limits) => PolicyInput)[] = [
    (limits) => ({
      name: "llm for everyone",
      scope: "GLOBAL",
      rules: [{ pattern: "llm.*", effect: "ALLOW" }],
      caps: [
        { per: "GLOBAL", window: "DAY", limit: units(limits.GLOBAL), overrunAllowance: units(ALLOWANCE.GLOBAL) },
        { per: "RUN", window: "TOTAL", limit: units(limits.RUN) },
        { per: "RUN", window: "TOTAL", maxActions: limits.RUN_ACTIONS },
      ],
    }),
    ...[...new Set(agents.map((agent) => agent.ownerId))].map((ownerId) => (limits: Limits): PolicyInput => ({
      name: "owner budget",
      scope: "USER",
      scopeId: ownerId,
      caps: [{ per: "OWNER", window: "DAY", limit: units(limits.OWNER) }],
    })),
    ...agents.map((agent, index) => (limits: Limits): PolicyInput => ({
      name: "agent budget",
      scope: "AGENT",
      scopeId: agent.id,
      caps: [
        { per: "AGENT", window: "DAY", limit: units(limits.AGENT) },
        { per: "AGENT", window: "DAY", maxActions: index === HOT ? limits.HOT_ACTIONS : limits.ACTIONS },
        ...(index === HOT ? [{ per: "AGENT" as const, window: "DAY" as const, limit: units(limits.COMPLETIONS), pattern: "llm.completion" }] : []),
      ],
    })),
  ];
  policies = [];
  for (const input of inputs) {
    const created = await createPolicy(processes[0]!.client, admin, input(LIMITS.steady));
    policies.push({ id: created.id, input });
  }
}

async function setLimits(limits: Limits): Promise<void> {
  for (const policy of policies) {
    await processes[1]!.client.ok(UpdatePolicyDocument, { id: policy.id, input: policy.input(limits) }, { token: admin.accessToken });
  }
}

// ---------------------------------------------------------------------------------------
// The load: a plan drawn from a seeded generator, run by a fixed number of workers.

/** mulberry32: a small seeded generator, so a failing plan can be run again (LOAD_SEED). */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type FollowUp = { kind: "settle"; quarters: number } | { kind: "cancel" } | { kind: "keep" };

interface PlannedSubmit {
  agent: AgentWithKey;
  via: number;
  input: AgentActionInput & { idempotencyKey: string };
  followUp: FollowUp;
  followVia: number;
  /** Sent again, unchanged, to another process once answered. */
  retry: boolean;
  /** Also sent to another process at the same moment. */
  race: boolean;
}

function plan(phase: keyof typeof LIMITS, count: number, random: () => number): PlannedSubmit[] {
  const pick = (weights: number[]) => {
    let roll = random();
    for (let i = 0; i < weights.length; i += 1) if ((roll -= weights[i]!) < 0) return i;
    return weights.length - 1;
  };
  const planned = Array.from({ length: count }, (_, n) => {
    const agentIndex = pick(AGENT_WEIGHTS);
    const agent = agents[agentIndex]!;
    const runId = random() < 0.7 ? runsOf[agentIndex]![Math.floor(random() * RUNS_PER_AGENT)] : undefined;
    const roll = random();
    const followUp: FollowUp = roll < 0.45 ? { kind: "settle", quarters: Math.floor(random() * 9) } : roll < 0.8 ? { kind: "cancel" } : { kind: "keep" };
    return {
      agent,
      via: Math.floor(random() * PROCESSES),
      input: {
        action: random() < 0.5 ? "llm.completion" : "llm.embedding",
        resource: `doc-${n % 7}`,
        estimatedCost: units(1 + Math.floor(random() * 3)),
        idempotencyKey: `${phase}-${String(n).padStart(4, "0")}`,
        metadata: { n },
        ...(runId === undefined ? {} : { runId }),
      },
      followUp,
      followVia: Math.floor(random() * PROCESSES),
      retry: random() < 0.12,
      race: random() < 0.06,
    };
  });
  // Whatever the seed, one completion of the HOT agent costs more than its completions cap
  // holds, so that cap turns at least one action away (a random plan may give it none).
  const pinned: PlannedSubmit = {
    agent: agents[HOT]!,
    via: Math.floor(random() * PROCESSES),
    input: {
      action: "llm.completion",
      resource: "doc-pinned",
      estimatedCost: units(LIMITS[phase].COMPLETIONS + 1),
      idempotencyKey: `${phase}-pinned`,
      metadata: { n: count },
    },
    followUp: { kind: "keep" },
    followVia: 0,
    retry: false,
    race: false,
  };
  return [...planned, pinned];
}

type Outcome =
  | { kind: "allowed"; id: string }
  | { kind: "denied"; id: string; pers: string[] }
  | { kind: "lost"; error: string }
  | { kind: "unexpected"; detail: string };

interface SubmitAnswer {
  key: string;
  agentId: string;
  via: number;
  retry: boolean;
  outcome: Outcome;
}

interface StepAnswer {
  step: "settle" | "cancel";
  id: string;
  via: number;
  actualCost: bigint | null;
  /** A settle above the estimate. */
  overrun: boolean;
  outcome:
    | { kind: "ok"; status: string }
    | { kind: "refused"; bound: string; allowed: bigint }
    | { kind: "lost"; error: string }
    | { kind: "unexpected"; detail: string };
}

/** What every request of a load got back, acknowledged or not. */
interface Journal {
  submits: SubmitAnswer[];
  steps: StepAnswer[];
}

const acknowledged = (outcome: Outcome): outcome is Extract<Outcome, { id: string }> => outcome.kind === "allowed" || outcome.kind === "denied";
const survivors = () => processes.map((_, index) => index).filter((index) => !killed.has(index));
/** Another live process than `via` (or `via` itself when it is the only one left). */
const otherThan = (via: number) => survivors().find((index) => index !== via) ?? via;

/** A request to process `via`: its response, or why it got none. */
async function send<T>(via: number, call: (client: GraphQLClient) => Promise<GraphQLResponse<T>>) {
  try {
    return { response: await call(processes[via]!.client) };
  } catch (error) {
    const detail = `${String(error)} ${String((error as { cause?: unknown }).cause ?? "")}`;
    // A connection error is an unacknowledged request only on a process this test killed.
    return killed.has(via) ? { lost: detail } : { unexpected: detail };
  }
}

async function submitVia(journal: Journal, via: number, item: PlannedSubmit, retry: boolean): Promise<Outcome> {
  const sent = await send(via, (client) => client.request(SubmitAgentActionDocument, { input: item.input }, item.agent.auth));
  let outcome: Outcome;
  if (sent.response === undefined) outcome = sent.lost !== undefined ? { kind: "lost", error: sent.lost } : { kind: "unexpected", detail: sent.unexpected };
  else {
    const { status, data, errors } = sent.response;
    const extensions = errors?.[0]?.extensions;
    if (status === 200 && !errors && data?.submitAgentAction.decision === "ALLOWED") outcome = { kind: "allowed", id: data.submitAgentAction.id };
    else if (status === 200 && extensions?.code === "POLICY_DENIED" && typeof extensions.decisionId === "string") {
      const reasons = (extensions.reasons ?? []) as { code: string; per?: string | null; measure?: string; pattern?: string }[];
      outcome = {
        kind: "denied",
        id: extensions.decisionId,
        pers: reasons
          .filter((r) => r.code === "CAP_EXCEEDED")
          .map((r) => (r.measure === "ACTIONS" ? (r.per === "RUN" ? "RUN_ACTIONS" : "ACTIONS") : r.pattern !== undefined ? "COMPLETIONS" : (r.per ?? "?"))),
      };
    } else outcome = { kind: "unexpected", detail: `${status} ${JSON.stringify(errors ?? data)}` };
  }
  journal.submits.push({ key: item.input.idempotencyKey, agentId: item.agent.id, via, retry, outcome });
  return outcome;
}

async function stepVia(journal: Journal, via: number, item: PlannedSubmit, id: string): Promise<StepAnswer["outcome"]> {
  const estimate = BigInt(item.input.estimatedCost);
  const actualCost = item.followUp.kind === "settle" ? (estimate * BigInt(item.followUp.quarters)) / 4n : null;
  const sent = await send(via, async (client): Promise<GraphQLResponse<{ status: string }>> => {
    if (actualCost !== null) {
      const response = await client.request(SettleAgentActionDocument, { id, actualCost: actualCost.toString() }, item.agent.auth);
      return { ...response, data: response.data?.settleAgentAction };
    }
    const response = await client.request(CancelAgentActionDocument, { id }, item.agent.auth);
    return { ...response, data: response.data?.cancelAgentAction };
  });
  let outcome: StepAnswer["outcome"];
  if (sent.response === undefined) outcome = sent.lost !== undefined ? { kind: "lost", error: sent.lost } : { kind: "unexpected", detail: sent.unexpected };
  else if (sent.response.status === 200 && !sent.response.errors && sent.response.data) outcome = { kind: "ok", status: sent.response.data.status };
  else if (actualCost !== null && actualCost > estimate && sent.response.errors?.[0]?.extensions?.code === "POLICY_DENIED") {
    const extensions = sent.response.errors[0].extensions as { bound: string; allowed: string };
    outcome = { kind: "refused", bound: extensions.bound, allowed: BigInt(extensions.allowed) };
  }
  else outcome = { kind: "unexpected", detail: `${sent.response.status} ${JSON.stringify(sent.response.errors)}` };
  journal.steps.push({ step: actualCost !== null ? "settle" : "cancel", id, via, actualCost, overrun: actualCost !== null && actualCost > estimate, outcome });
  return outcome;
}

/**
 * One planned submit, as an agent would do it: send (to two processes at once when it races),
 * retry with the same key on a live process when every copy was lost, settle or cancel what
 * was allowed (again on a live process when that request was lost), maybe retry the key once
 * more on another process.
 */
async function perform(journal: Journal, item: PlannedSubmit): Promise<void> {
  const copies = item.race ? [item.via, (item.via + 1) % PROCESSES] : [item.via];
  const outcomes = await Promise.all(copies.map((via) => submitVia(journal, via, item, false)));
  let decided = outcomes.find(acknowledged) ?? outcomes.find((outcome) => outcome.kind === "unexpected");
  for (let via = otherThan(item.via); decided === undefined; via = otherThan(via)) {
    const outcome = await submitVia(journal, via, item, true);
    if (outcome.kind !== "lost") decided = outcome;
  }
  if (decided.kind === "allowed" && item.followUp.kind !== "keep") {
    let outcome = await stepVia(journal, item.followVia, item, decided.id);
    for (let via = otherThan(item.followVia); outcome.kind === "lost"; via = otherThan(via)) outcome = await stepVia(journal, via, item, decided.id);
  }
  if (item.retry && acknowledged(decided)) await submitVia(journal, otherThan(item.via), item, true);
}

/** Runs the plan with CONCURRENCY submits in flight; `onDone` hears each finished one. */
async function runLoad(items: PlannedSubmit[], onDone: (done: number) => void = () => undefined): Promise<Journal> {
  const journal: Journal = { submits: [], steps: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let item = items[next++]; item; item = items[next++]) {
      await perform(journal, item);
      onDone(++done);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return journal;
}

/** SIGKILL: no shutdown hook runs, open transactions are cut off wherever they are. */
async function killHard(index: number): Promise<void> {
  const child = processes[index]!.child;
  killed.add(index);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

// ---------------------------------------------------------------------------------------
// The checks: everything is read in one snapshot of the database.

type ActionRow = typeof agentActions.$inferSelect;
type CounterRow = typeof spendCounters.$inferSelect;
type AuditRow = typeof auditEvents.$inferSelect;

interface Snapshot {
  actions: ActionRow[];
  counters: CounterRow[];
  /**
   * The agent-action audit rows in seq order: the order their transactions committed in
   * (each appends its audit row last, under the audit chain's lock, which it holds to commit,
   * while it also still holds the locks of the counters it read or changed).
   */
  audits: AuditRow[];
}

async function snapshot(): Promise<Snapshot> {
  return ledger.db.transaction(
    async (tx) => ({
      actions: await tx.select().from(agentActions),
      counters: await tx.select().from(spendCounters),
      audits: await tx.select().from(auditEvents).where(like(auditEvents.action, "agent.action.%")).orderBy(asc(auditEvents.seq)),
    }),
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

interface CapLine {
  per: Per;
  window: string;
  measure?: "ACTIONS";
  pattern?: string;
  counter: string;
  limit: string;
  spentBefore: string;
  spentAfter: string;
  fits: boolean;
}

interface DecidedDetails {
  outcome: string;
  input: { estimatedCost: string };
  caps: CapLine[];
}

const countBy = <T>(items: readonly T[], key: (item: T) => string | null) => {
  const counts = new Map<string, number>();
  for (const item of items) {
    const name = key(item);
    if (name !== null) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
};

/** The limits a decision of this key was taken under (the phase is the key's prefix). */
const limitsOfKey = (key: string | null): Limits => (key?.startsWith("crash-") ? LIMITS.crash : LIMITS.steady);

/**
 * Replays the ledger in audit order: each decision must have read exactly the spend the
 * decisions, settles and cancels before it left on each capped counter, an allowed one must
 * fit every cap, a denied one must have found a cap without room (every action here matches
 * an ALLOW rule). Returns the problems, and the spend replayed per counter.
 */
function replayLedger(shot: Snapshot): { problems: string[]; charged: Map<string, bigint> } {
  const problems: string[] = [];
  const charged = new Map<string, bigint>();
  const actions = new Map(shot.actions.map((row) => [row.id, row]));
  const charge = (keys: readonly string[], amount: bigint) => {
    for (const key of keys) charged.set(key, (charged.get(key) ?? 0n) + amount);
  };
  for (const audit of shot.audits) {
    const row = actions.get(audit.targetId ?? "");
    if (!row) {
      problems.push(`audit #${audit.seq} (${audit.action}) names no action row: ${audit.targetId}`);
      continue;
    }
    const details = audit.details as unknown as DecidedDetails & { actualCost: string; released: string };
    if (audit.action === "agent.action.decided") {
      const estimate = BigInt(details.input.estimatedCost);
      for (const cap of details.caps) {
        // A velocity cap counts the action (1), whatever it costs.
        const cost = cap.measure === "ACTIONS" ? 1n : estimate;
        const before = charged.get(cap.counter) ?? 0n;
        const limit = BigInt(cap.limit);
        if (BigInt(cap.spentBefore) !== before) problems.push(`${row.id} (${row.idempotencyKey}) read ${cap.spentBefore} on ${cap.counter}; the ledger held ${before}`);
        if (limit !== limitOf(cap, limitsOfKey(row.idempotencyKey))) problems.push(`${row.id} was decided under a stale limit ${cap.limit} on ${cap.counter}`);
        if (details.outcome === "ALLOWED" && before + cost > limit) problems.push(`${row.id} was allowed past the cap: ${before} + ${cost} > ${limit} on ${cap.counter}`);
        if (!cap.fits && before + cost <= limit) problems.push(`${row.id}: cap on ${cap.counter} said no room with ${before} + ${cost} <= ${limit}`);
        if (details.outcome === "ALLOWED" && cap.measure === "ACTIONS") charge([cap.counter], 1n);
      }
      if (details.outcome === "DENIED" && details.caps.every((cap) => cap.fits)) problems.push(`${row.id} was denied with room on every cap`);
      if (details.outcome === "ALLOWED") charge(row.counterKeys, estimate);
    } else if (audit.action === "agent.action.settled") {
      charge(row.counterKeys, BigInt(details.actualCost) - BigInt(details.released));
    } else if (audit.action === "agent.action.cancelled" || audit.action === "agent.action.expired") {
      charge(row.counterKeys, -BigInt(details.released));
    }
  }
  return { problems, charged };
}

/**
 * The counters against the actions: each counter's reserved is the sum of the live
 * reservations of the actions charged on it, its settled the sum of their settled costs; the
 * replayed spend agrees; no capped counter holds more than its cap.
 */
function checkCounters(shot: Snapshot, charged: Map<string, bigint>, limits: Limits): string[] {
  const problems: string[] = [];
  const sums = new Map<string, { reserved: bigint; settled: bigint }>();
  // Velocity counters hold the number of actions allowed on them (a run's, or an agent's in
  // the counter's day), as settled.
  for (const counter of shot.counters.filter((row) => row.measure === "ACTIONS")) {
    const counted = shot.actions.filter((row) =>
      counter.per === "RUN"
        ? row.runId === counter.subject
        : row.agentId === counter.subject && row.decidedAt.toISOString().slice(0, 10) === counter.windowStart?.toISOString().slice(0, 10),
    );
    sums.set(counter.key, { reserved: 0n, settled: BigInt(counted.filter((row) => row.outcome === "ALLOWED").length) });
  }
  for (const row of shot.actions) {
    // Fifteen base counters, the HOT agent's completions counter for its llm.completion, and
    // its run's spend counter for an action of a run (velocity counters hold no reservation).
    const hotCompletion = row.action === "llm.completion" && row.agentId === agents[HOT]!.id;
    const expectedKeys = row.status === "DENIED" ? 0 : 15 + (hotCompletion ? 1 : 0) + (row.runId === null ? 0 : 1);
    if (row.counterKeys.length !== expectedKeys) problems.push(`${row.id} (${row.status}) is charged on ${row.counterKeys.length} counters, not ${expectedKeys}`);
    for (const key of row.counterKeys) {
      const sum = sums.get(key) ?? { reserved: 0n, settled: 0n };
      sum.reserved += row.reserved;
      if (row.status === "SETTLED") sum.settled += row.actualCost ?? 0n;
      sums.set(key, sum);
    }
  }
  const counterKeys = new Set(shot.counters.map((counter) => counter.key));
  for (const key of sums.keys()) if (!counterKeys.has(key)) problems.push(`actions are charged on ${key}, which has no counter`);
  for (const counter of shot.counters) {
    const sum = sums.get(counter.key) ?? { reserved: 0n, settled: 0n };
    if (counter.reserved !== sum.reserved || counter.settled !== sum.settled) {
      problems.push(`${counter.key}: counter ${counter.reserved} reserved + ${counter.settled} settled, actions ${sum.reserved} + ${sum.settled}`);
    }
    const replayed = charged.get(counter.key) ?? 0n;
    if (replayed !== sum.reserved + sum.settled) problems.push(`${counter.key}: replay holds ${replayed}, actions ${sum.reserved + sum.settled}`);
    if (counter.measure === "ACTIONS") {
      const limit = actionsLimit(counter.subject, limits);
      if (sum.settled > BigInt(limit)) problems.push(`${counter.key}: ${sum.settled} actions allowed, over the limit of ${limit}`);
    } else if (counter.pattern !== null) {
      if (sum.reserved + sum.settled > BigInt(units(limits.COMPLETIONS))) problems.push(`${counter.key}: ${sum.reserved + sum.settled} charged, over the completions cap`);
    } else if (counter.per === "RUN") {
      if (sum.reserved + sum.settled > BigInt(units(limits.RUN))) problems.push(`${counter.key}: ${sum.reserved + sum.settled} charged, over the run's cap`);
    } else if (counter.window === "DAY" && counter.per in limits) {
      const limit = BigInt(units(limits[counter.per as Per]));
      const bound = limit + BigInt(units(ALLOWANCE[counter.per as Per]));
      if (sum.reserved + sum.settled > bound) problems.push(`${counter.key}: ${sum.reserved + sum.settled} charged, over the cap of ${limit} + its allowance`);
    }
  }
  return problems;
}

/**
 * The answers against the rows: every acknowledged submit has its row (same agent, key and
 * outcome) and all answers of a key name the same action; every row has exactly one decision
 * audit row, every settled or cancelled one exactly one audit row of that step; every
 * acknowledged settle and cancel shows in its row. `keys` are the keys the load decided.
 */
function checkAnswers(shot: Snapshot, journal: Journal, keys: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const actions = new Map(shot.actions.map((row) => [row.id, row]));
  const auditsOf = (action: string) => countBy(shot.audits.filter((audit) => audit.action === action), (audit) => audit.targetId);
  const decided = auditsOf("agent.action.decided");
  const settled = auditsOf("agent.action.settled");
  const cancelled = auditsOf("agent.action.cancelled");
  /** Keys are unique across agents here (the phase and a number). */
  const idOfKey = new Map<string, string>();
  for (const answer of journal.submits) {
    const { outcome } = answer;
    if (outcome.kind === "unexpected") problems.push(`submit ${answer.key} on process ${answer.via}: ${outcome.detail}`);
    if (!acknowledged(outcome)) continue;
    const row = actions.get(outcome.id);
    const expected = outcome.kind === "allowed" ? "ALLOWED" : "DENIED";
    if (!row) problems.push(`submit ${answer.key} was answered ${outcome.kind} ${outcome.id} but has no row`);
    else if (row.agentId !== answer.agentId || row.idempotencyKey !== answer.key || row.outcome !== expected) {
      problems.push(`submit ${answer.key} was answered ${expected} ${outcome.id}; the row is ${row.agentId}/${row.idempotencyKey}/${row.outcome}`);
    }
    const first = idOfKey.get(answer.key);
    if (first !== undefined && first !== outcome.id) problems.push(`key ${answer.key} answered ${first} and ${outcome.id}`);
    idOfKey.set(answer.key, outcome.id);
  }
  const refusedAudits = auditsOf("agent.action.settle_refused");
  for (const step of journal.steps) {
    if (step.outcome.kind === "unexpected") problems.push(`${step.step} of ${step.id} on process ${step.via}: ${step.outcome.detail}`);
    if (step.outcome.kind === "refused") {
      const row = actions.get(step.id);
      // Refused: audited, nothing charged, the reservation still held (nobody cancels it here).
      if (row?.status !== "RESERVED" || row.reserved !== row.estimatedCost) problems.push(`refused settle of ${step.id} left the row ${row?.status} holding ${row?.reserved}`);
      if (step.outcome.bound !== "CAP" || step.outcome.allowed >= (step.actualCost ?? 0n)) problems.push(`refused settle of ${step.id}: ${step.outcome.bound}, allowed ${step.outcome.allowed}`);
      if ((refusedAudits.get(step.id) ?? 0) < 1) problems.push(`refused settle of ${step.id} has no audit row`);
    }
    if (step.outcome.kind !== "ok") continue;
    const row = actions.get(step.id);
    const status = step.step === "settle" ? "SETTLED" : "CANCELLED";
    if (row?.status !== status || (step.actualCost !== null && row.actualCost !== step.actualCost)) {
      problems.push(`${step.step} of ${step.id} was acknowledged; the row is ${row?.status} ${row?.actualCost}`);
    }
  }
  for (const row of shot.actions) {
    if (decided.get(row.id) !== 1) problems.push(`${row.id} has ${decided.get(row.id) ?? 0} decision audit rows`);
    if (row.status === "SETTLED" && settled.get(row.id) !== 1) problems.push(`${row.id} is SETTLED with ${settled.get(row.id) ?? 0} settle audit rows`);
    if (row.status === "CANCELLED" && cancelled.get(row.id) !== 1) problems.push(`${row.id} is CANCELLED with ${cancelled.get(row.id) ?? 0} cancel audit rows`);
  }
  const rowKeys = shot.actions.filter((row) => row.idempotencyKey !== null && keys.has(row.idempotencyKey));
  if (rowKeys.length !== keys.size) problems.push(`${keys.size} keys were decided into ${rowKeys.length} rows`);
  const unanswered = [...keys].filter((key) => !idOfKey.has(key));
  if (unanswered.length > 0) problems.push(`keys never acknowledged: ${unanswered.join(", ")}`);
  return problems;
}

/** Counts for the log line, and for the "every kind of cap denied something" check. */
function tally(journal: Journal) {
  const firsts = new Map<string, Outcome>();
  for (const answer of journal.submits) if (acknowledged(answer.outcome) && !firsts.has(answer.key)) firsts.set(answer.key, answer.outcome);
  const outcomes = [...firsts.values()];
  const deniedBy = (per: Per | "ACTIONS" | "COMPLETIONS" | "RUN_ACTIONS") => outcomes.filter((outcome) => outcome.kind === "denied" && outcome.pers.includes(per)).length;
  return {
    allowed: outcomes.filter((outcome) => outcome.kind === "allowed").length,
    denied: outcomes.filter((outcome) => outcome.kind === "denied").length,
    deniedBy: {
      AGENT: deniedBy("AGENT"),
      OWNER: deniedBy("OWNER"),
      GLOBAL: deniedBy("GLOBAL"),
      ACTIONS: deniedBy("ACTIONS"),
      COMPLETIONS: deniedBy("COMPLETIONS"),
      RUN: deniedBy("RUN"),
      RUN_ACTIONS: deniedBy("RUN_ACTIONS"),
    },
    retries: journal.submits.filter((answer) => answer.retry).length,
    settles: journal.steps.filter((step) => step.step === "settle" && step.outcome.kind === "ok").length,
    overrunsTried: journal.steps.filter((step) => step.overrun).length,
    overruns: journal.steps.filter((step) => step.overrun && step.outcome.kind === "ok").length,
    refusedSettles: journal.steps.filter((step) => step.outcome.kind === "refused").length,
    cancels: journal.steps.filter((step) => step.step === "cancel" && step.outcome.kind === "ok").length,
    lost: journal.submits.filter((answer) => answer.outcome.kind === "lost").length + journal.steps.filter((step) => step.outcome.kind === "lost").length,
  };
}

const SEED = Number(process.env.LOAD_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`three processes under concurrent agent load (LOAD_SEED=${SEED})`, () => {
  const random = generator(SEED);
  const steadyPlan = () => plan("steady", 200, random);
  const crashPlan = () => plan("crash", 150, random);

  it("never lets a cap be exceeded, keeps the counters equal to the actions and records every answer once", async () => {
    const items = steadyPlan();
    const journal = await runLoad(items);
    const shot = await snapshot();
    const { problems, charged } = replayLedger(shot);
    problems.push(...checkCounters(shot, charged, LIMITS.steady));
    problems.push(...checkAnswers(shot, journal, new Set(items.map((item) => item.input.idempotencyKey))));
    const counts = tally(journal);
    console.info(`steady load: ${JSON.stringify(counts)}`);
    expect(problems).toEqual([]);
    expect(counts.lost).toBe(0);
    expect(counts.retries).toBeGreaterThan(0);
    expect(counts.overrunsTried).toBeGreaterThan(0);
    // The limits leave little room: every kind of cap turned actions away.
    expect(counts.deniedBy.AGENT).toBeGreaterThan(0);
    expect(counts.deniedBy.OWNER).toBeGreaterThan(0);
    expect(counts.deniedBy.GLOBAL).toBeGreaterThan(0);
    expect(counts.deniedBy.ACTIONS).toBeGreaterThan(0);
    expect(counts.deniedBy.COMPLETIONS).toBeGreaterThan(0);
    expect(counts.deniedBy.RUN).toBeGreaterThan(0);
    expect(counts.deniedBy.RUN_ACTIONS).toBeGreaterThan(0);
  }, 60_000);

  it("keeps every acknowledged answer and an exact ledger when a process is SIGKILLed mid-load", async () => {
    await setLimits(LIMITS.crash);
    const victim = PROCESSES - 1;
    const items = crashPlan();
    let killing: Promise<void> | undefined;
    const journal = await runLoad(items, (done) => {
      if (done === 40) killing = killHard(victim);
    });
    await killing;
    expect(processes[victim]!.child.signalCode).toBe("SIGKILL");
    const shot = await snapshot();
    const { problems, charged } = replayLedger(shot);
    problems.push(...checkCounters(shot, charged, LIMITS.crash));
    problems.push(...checkAnswers(shot, journal, new Set(items.map((item) => item.input.idempotencyKey))));
    const counts = tally(journal);
    console.info(`crash load: ${JSON.stringify(counts)}`);
    expect(problems).toEqual([]);
    // Requests to the killed process went unanswered, and the agents' retries decided them.
    expect(counts.lost).toBeGreaterThan(0);
    expect(counts.allowed).toBeGreaterThan(0);
    expect(shot.actions.filter((row) => row.idempotencyKey?.startsWith("crash-"))).toHaveLength(items.length);
  }, 60_000);
});
