import type { ActionCrossing } from "./decision-statements";
import { findAgent, listAgents } from "../agents/agent.repository";
import { hasPermission, type AgentPrincipal, type Principal } from "../auth/principal";
import type { Clock } from "../clock";
import type { Db } from "../db/database";
import type { FlightDb } from "../db/flights";
import { ForbiddenError, NotFoundError, UserInputError } from "../errors/errors";
import type { Decision } from "../policy/decision-types";
import type { CapCounter, Policy } from "../policy/policy-types";
import { checkPolicyDraft, withCapIds, withRuleIds, type PolicyDraft } from "../policies/policy-validation";
import type { PolicyService } from "../policies/policy.service";
import { isUuid } from "../validation/ids";
import { createActionDecider, type ActionTimeouts } from "./action-decider";
import type { ActionInput } from "./action-input";
import { createActionLifecycle } from "./action-lifecycle";
import { createVersionLoader, proposedPolicyId, replayDecision, whatIf, type ReplayResult, type WhatIfReport } from "./action-replay";
import { countActions, findAction, listActions, replayPage, type ActionFilter, type ActionRow, type ReplayRow } from "./action.repository";
import type { ChainCache } from "./chain-cache";
import { createSpendAdjuster } from "./spend-adjustments";
import { spendReport, type SpendReport } from "./spend-report";
import { spendSight } from "./spend-privacy";

/** Who reads actions: an agent (its own), or a person. */
export type ActionViewer = { kind: "agent"; agent: AgentPrincipal } | { kind: "user"; user: Principal };

/** Reading every agent's actions: agents:read, spend:read, or actions:approve (approvers see the queue). */
const seesAll = (user: Principal) =>
  hasPermission(user, "agents:read") || hasPermission(user, "spend:read") || hasPermission(user, "actions:approve");

const MAX_WHAT_IF = 10_000;
const WHAT_IF_PAGE = 500;

/** The actions a what-if replays, oldest first, a page at a time, at most `limit` in all. */
async function* replayPages(db: Db, filter: ActionFilter, limit: number): AsyncGenerator<ReplayRow[]> {
  let after: ReplayRow | undefined;
  for (let left = limit; left > 0; ) {
    const rows = await replayPage(db, filter, { limit: Math.min(WHAT_IF_PAGE, left), after });
    if (rows.length === 0) return;
    yield rows;
    left -= rows.length;
    after = rows.at(-1);
  }
}
/** An agent id no agent has: the chain of an owner or of everyone, without AGENT policies. */
const NO_AGENT = "00000000-0000-0000-0000-000000000000";

export function createActionService(deps: {
  db: Db;
  flights: FlightDb;
  clock: Clock;
  chains: ChainCache;
  policies: PolicyService;
  timeouts: ActionTimeouts;
  /** Cap thresholds crossed for the first time in their window, after the commit (spend-alerts.ts). */
  onCrossings?: (crossings: readonly ActionCrossing[]) => void;
  /** The outcomes of the actions a batch decided, after its commit (metrics). */
  onDecided?: (outcomes: readonly string[]) => void;
}) {
  const { db, clock, chains, policies } = deps;
  const decider = createActionDecider(deps);
  const lifecycle = createActionLifecycle(deps);
  const adjuster = createSpendAdjuster(deps);

  /** The filter a viewer may see, narrowed by what they asked for. */
  async function visible(viewer: ActionViewer, filter: ActionFilter): Promise<ActionFilter> {
    if (filter.agentIds?.some((id) => !isUuid(id))) throw new UserInputError("Not a valid id", "filter.agentId");
    if (viewer.kind === "agent") return { ...filter, agentIds: [viewer.agent.agentId] };
    if (seesAll(viewer.user)) return filter;
    const own = (await listAgents(db, viewer.user.userId)).map((agent) => agent.id);
    return { ...filter, ownerId: viewer.user.userId, agentIds: filter.agentIds ? filter.agentIds.filter((id) => own.includes(id)) : own };
  }

  async function readable(viewer: ActionViewer, id: string): Promise<ActionRow> {
    const row = isUuid(id) ? await findAction(db, id) : undefined;
    const mayRead =
      row &&
      (viewer.kind === "agent" ? row.agentId === viewer.agent.agentId : row.ownerId === viewer.user.userId || seesAll(viewer.user));
    if (!row || !mayRead) throw new NotFoundError("No such action");
    return row;
  }

  /** An agent a person may simulate for or report on: their own, or any with `permission`. */
  async function agentFor(user: Principal, agentId: string, permission: string) {
    const agent = isUuid(agentId) ? await findAgent(db, agentId) : undefined;
    if (!agent || agent.deletedAt !== null || (agent.ownerId !== user.userId && !hasPermission(user, permission))) {
      throw new NotFoundError("No such agent");
    }
    return agent;
  }

  return {
    submit: decider.submit,
    settle: lifecycle.settle,
    cancel: lifecycle.cancel,
    release: lifecycle.releaseAsPerson,
    releaseAgentHoldings: lifecycle.releaseAgentHoldings,
    releaseRunHolds: lifecycle.releaseRunHolds,
    adjust: adjuster.adjust,
    adjustments: adjuster.list,
    approve: lifecycle.approve,
    reject: lifecycle.reject,
    expireDue: lifecycle.expireDue,

    /** A dry run: the decision now, for the agent itself or for its owner / a policies:read holder. */
    async simulate(viewer: ActionViewer, agentId: string | null, input: ActionInput): Promise<{ decision: Decision; at: Date }> {
      if (viewer.kind === "agent") return decider.simulate(viewer.agent, input);
      if (!agentId) throw new UserInputError("Name the agent to simulate for", "agentId");
      const agent = await agentFor(viewer.user, agentId, "policies:read");
      return decider.simulate({ agentId: agent.id, ownerId: agent.ownerId }, input);
    },

    get: readable,

    async list(viewer: ActionViewer, filter: ActionFilter, page: { limit: number; after?: { decidedAt: Date; id: string } }) {
      const scoped = await visible(viewer, filter);
      const [rows, total] = await Promise.all([listActions(db, scoped, { ...page, limit: page.limit + 1 }), countActions(db, scoped)]);
      return { rows: rows.slice(0, page.limit), hasNextPage: rows.length > page.limit, total };
    },

    async replay(viewer: ActionViewer, id: string): Promise<ReplayResult> {
      const row = await readable(viewer, id);
      return (await replayDecision(row, createVersionLoader(db))).result;
    },

    /**
     * The proposed policy (validated as a create would be, never stored) replayed over the
     * recorded actions in the range: policies:read over everyone's, otherwise over one's own.
     */
    async whatIf(user: Principal, draft: PolicyDraft, options: { replaces?: string | null; filter: ActionFilter }): Promise<WhatIfReport> {
      const content = checkPolicyDraft(draft);
      // Without policies:read, only what an owner could write: an AGENT policy (which cannot
      // hold GLOBAL caps), replayed over their own agents' actions. A broader proposal would
      // reveal the recorded spend of everyone's counters.
      if (!hasPermission(user, "policies:read") && content.scope !== "AGENT") {
        throw new ForbiddenError("Trying a policy of a scope other than AGENT needs policies:read");
      }
      const replaces = options.replaces ?? null;
      if (replaces !== null && !isUuid(replaces)) throw new UserInputError("Not a valid id", "replaces");
      const proposed: Policy = {
        id: replaces ?? proposedPolicyId(),
        version: 0,
        name: content.name,
        scope: content.scope,
        scopeId: content.scopeId,
        enabled: true,
        mode: "ENFORCE",
        // Replayed with the authority the proposer would write it with (policy.service.ts).
        authority: hasPermission(user, "policies:write") ? "OVERRIDE" : "RESTRICTION",
        rules: withRuleIds([], content.rules ?? [], proposedPolicyId),
        caps: withCapIds([], content.caps ?? [], proposedPolicyId),
      };
      if (options.filter.agentIds?.some((id) => !isUuid(id))) throw new UserInputError("Not a valid id", "filter.agentId");
      const scoped = hasPermission(user, "policies:read") ? options.filter : await visible({ kind: "user", user }, options.filter);
      return whatIf(replayPages(db, scoped, MAX_WHAT_IF), proposed, replaces, createVersionLoader(db));
    },

    /** Spend of an agent, an owner or everyone in each current window, with each cap's room. */
    async spend(viewer: ActionViewer, per: CapCounter, subjectId: string | null, at?: Date): Promise<SpendReport> {
      const when = at ?? clock.now();
      if (viewer.kind === "agent") {
        if (per !== "AGENT") throw new ForbiddenError("An agent reads its own budgets only");
        const { agent } = viewer;
        const { chain, ownerRoles } = await chains.get({ id: agent.agentId, ownerId: agent.ownerId });
        return spendReport(db, per, { agentId: agent.agentId, ownerId: agent.ownerId }, chain, ownerRoles, when);
      }
      const user = viewer.user;
      // The same rule as every view of reasons and caps: platform-wide spend needs spend:read.
      const mayReadAll = spendSight(viewer).platform;
      if (per === "AGENT") {
        const agent = await agentFor(user, subjectId ?? "", "spend:read");
        const { chain, ownerRoles } = await chains.get(agent);
        return spendReport(db, per, { agentId: agent.id, ownerId: agent.ownerId }, chain, ownerRoles, when);
      }
      const ownerId = per === "OWNER" ? (subjectId ?? user.userId) : user.userId;
      if (per === "GLOBAL" && !mayReadAll) throw new ForbiddenError("Reading everyone's spend needs spend:read");
      if (per === "OWNER" && ownerId !== user.userId && !mayReadAll) throw new NotFoundError("No such user");
      if (!isUuid(ownerId)) throw new UserInputError("Not a valid id", "subjectId");
      const { chain, ownerRoles } = await policies.agentChain({ id: NO_AGENT, ownerId });
      return spendReport(db, per, { agentId: NO_AGENT, ownerId }, chain, ownerRoles, when);
    },
  };
}

export type ActionService = ReturnType<typeof createActionService>;
