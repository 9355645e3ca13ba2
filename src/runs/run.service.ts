import { enqueueWebhookEvents } from "../webhooks/webhook-events";
import { runFinished } from "../webhooks/webhook-payloads";
import crypto from "node:crypto";
import { countActions, listActions, type ActionRow } from "../actions/action.repository";
import { findAgent } from "../agents/agent.repository";
import { AuditAction } from "../audit/audit-actions";
import { recordAudit, type AuditActor } from "../audit/audit-recorder";
import type { Clock } from "../clock";
import type { Db, Tx } from "../db/database";
import { ConflictError, ForbiddenError, NotFoundError, UserInputError } from "../errors/errors";
import type { RequestMeta } from "../request-meta";
import { isUuid } from "../validation/ids";
import { listScope, mayCancelRun, mayDriveRun, maySeeRun, type RunOwnership, type RunViewer } from "./run-access";
import { checkAgentId, checkRunInput, checkRunOutput, runInputHash, sameJson, type RunInput } from "./run-input";
import {
  countRunLog,
  countRuns,
  findRun,
  findRunByThread,
  insertRun,
  listRuns,
  lockRun,
  rerunsOf,
  runIdsOfActions,
  runLog,
  runSpend,
  updateRun,
  type RunFilter,
  type RunRecord,
  type StoredRun,
} from "./run.repository";

export type FinalStatus = "SUCCEEDED" | "FAILED";

/** Withdraws a finished run's held actions (the action lifecycle's releaseRunHolds). */
export interface RunHolds {
  releaseRun(runId: string, by: AuditActor, reason: string, meta: RequestMeta): Promise<number>;
}

const actorOf = (viewer: RunViewer): AuditActor =>
  viewer.kind === "agent" ? { type: "agent", id: viewer.agent.agentId } : { type: "user", id: viewer.user.userId };

const noSuchRun = () => new NotFoundError("No such run");

/**
 * Runs: an agent's unit of work for its owner. Every change (start, rerun, finish, cancel)
 * commits with its audit row; a finished run's held actions are then withdrawn through the
 * action lifecycle. Access is decided by run-access.ts on the row read, and a run the viewer
 * may not see is NOT_FOUND on every path.
 */
export function createRunService(deps: { db: Db; clock: Clock; holds: RunHolds }) {
  const { db, clock, holds } = deps;

  const held = (run: StoredRun): RunRecord => ({ ...run, held: false });

  /** The run if the viewer may see it; NOT_FOUND otherwise, also for a malformed id. */
  async function visible(viewer: RunViewer, id: string): Promise<RunRecord> {
    const run = isUuid(id) ? await findRun(db, id, clock.now()) : undefined;
    if (!run || !maySeeRun(viewer, run)) throw noSuchRun();
    return run;
  }

  /** The agent a run is started for: the calling agent itself, or a person's own agent. */
  async function agentFor(viewer: RunViewer, rawAgentId: string | null | undefined): Promise<{ agentId: string; ownerId: string }> {
    const agentId = checkAgentId(rawAgentId);
    if (viewer.kind === "agent") {
      if (agentId !== null && agentId !== viewer.agent.agentId) throw new NotFoundError("No such agent");
      return { agentId: viewer.agent.agentId, ownerId: viewer.agent.ownerId };
    }
    if (agentId === null) throw new UserInputError("Name the agent the run is for", "agentId");
    const agent = await findAgent(db, agentId);
    if (!agent || agent.ownerId !== viewer.user.userId) throw new NotFoundError("No such agent");
    return { agentId: agent.id, ownerId: agent.ownerId };
  }

  /** Inserts a run and its audit row in one transaction; undefined when the thread id is taken. */
  async function insertAudited(viewer: RunViewer, values: Omit<StoredRun, "id" | "startedAt" | "updatedAt" | "finishedAt" | "output" | "status" | "startedByType" | "startedById">, meta: RequestMeta) {
    const now = clock.now();
    const actor = actorOf(viewer);
    return db.transaction(async (tx) => {
      const run = await insertRun(tx, {
        ...values,
        id: crypto.randomUUID(),
        status: "RUNNING",
        startedByType: actor.type,
        startedById: (actor as { id: string }).id,
        startedAt: now,
        updatedAt: now,
      });
      if (!run) return undefined;
      await recordAudit(tx, meta, {
        actor,
        action: run.rerunOf === null ? AuditAction.RUN_STARTED : AuditAction.RUN_RERUN,
        outcome: "success",
        target: { type: "run", id: run.id },
        details: { agentId: run.agentId, ownerId: run.ownerId, name: run.name, threadId: run.threadId, rerunOf: run.rerunOf },
        at: now,
      });
      return run;
    });
  }

  /**
   * Changes a RUNNING run to a final status with its audit row, under the run's row lock
   * (the trigger of migration 0013 takes it FOR SHARE when an action of the run is inserted,
   * so no action of the run commits after this). `repeat` decides what a second call on a
   * finished run returns; then the held actions are withdrawn (again harmless).
   */
  async function close(
    viewer: RunViewer,
    id: string,
    meta: RequestMeta,
    change: { may: (run: StoredRun) => boolean; status: StoredRun["status"]; output: unknown; action: AuditAction; repeat: (run: StoredRun) => boolean },
  ): Promise<RunRecord> {
    if (!isUuid(id)) throw noSuchRun();
    const actor = actorOf(viewer);
    const run = await db.transaction(async (tx: Tx) => {
      const now = clock.now();
      const locked = await lockRun(tx, id);
      if (!locked || !maySeeRun(viewer, locked)) throw noSuchRun();
      if (!change.may(locked)) throw new ForbiddenError("Only the run's owner or its agent may do this");
      if (locked.status !== "RUNNING") {
        if (change.repeat(locked)) return locked;
        throw new ConflictError(`The run is already ${locked.status}`, "id");
      }
      const closed = await updateRun(tx, id, { status: change.status, output: change.output, finishedAt: now, updatedAt: now });
      // run.finished for every end (SUCCEEDED, FAILED, CANCELLED), committed with it.
      await enqueueWebhookEvents(tx, [runFinished(closed, now)]);
      await recordAudit(tx, meta, {
        actor,
        action: change.action,
        outcome: "success",
        target: { type: "run", id },
        details: { agentId: closed.agentId, ownerId: closed.ownerId, status: closed.status },
        at: now,
      });
      return closed;
    });
    await holds.releaseRun(run.id, actor, change.action, meta);
    return held(run);
  }

  return {
    /**
     * Starts a run. A thread id is unique per owner: a second start on the same thread with
     * the same agent and input returns the first run (a retry after a lost answer), with any
     * other input it is a CONFLICT on threadId.
     */
    async start(viewer: RunViewer, raw: RunInput, meta: RequestMeta): Promise<RunRecord> {
      const input = checkRunInput(raw);
      const { agentId, ownerId } = await agentFor(viewer, raw.agentId);
      const inputHash = runInputHash(agentId, input);
      const values = { ...input, agentId, ownerId, inputHash, rerunOf: null };
      const run = await insertAudited(viewer, values, meta);
      if (run) return held(run);
      const first = await findRunByThread(db, ownerId, input.threadId as string, clock.now());
      if (!first || first.inputHash !== inputHash || !maySeeRun(viewer, first)) {
        throw new ConflictError("This thread id was already used for a different run", "threadId");
      }
      return first;
    },

    /** A new run with the input of `id`, linked to it (rerunOf); by the run's owner or agent. */
    async rerun(viewer: RunViewer, id: string, meta: RequestMeta): Promise<RunRecord> {
      const old = await visible(viewer, id);
      if (!mayDriveRun(viewer, old)) throw new ForbiddenError("Only the run's owner or its agent may rerun it");
      if (!(await findAgent(db, old.agentId))) throw new ConflictError("The run's agent was deleted", "id");
      const { agentId, ownerId, name, instructions, initialData, metadata, inputHash } = old;
      const values = { agentId, ownerId, name, instructions, initialData, metadata, inputHash, threadId: null, rerunOf: old.id };
      return held((await insertAudited(viewer, values, meta)) as StoredRun);
    },

    /** The agent reports how the run ended; the same report again returns the run. */
    finish(viewer: RunViewer, id: string, status: FinalStatus, rawOutput: unknown, meta: RequestMeta): Promise<RunRecord> {
      const output = checkRunOutput(rawOutput);
      return close(viewer, id, meta, {
        may: (run) => mayDriveRun(viewer, run),
        status,
        output,
        action: AuditAction.RUN_FINISHED,
        repeat: (run) => run.status === status && sameJson(run.output, output),
      });
    },

    /** Cancels a running run: its agent, its owner, or runs:write; cancelling again is a no-op. */
    cancel(viewer: RunViewer, id: string, meta: RequestMeta): Promise<RunRecord> {
      return close(viewer, id, meta, {
        may: (run) => mayCancelRun(viewer, run),
        status: "CANCELLED",
        output: null,
        action: AuditAction.RUN_CANCELLED,
        repeat: (run) => run.status === "CANCELLED",
      });
    },

    get: visible,

    /** By thread id: the viewer's own thread (an agent's: its owner's, if the run is the agent's). */
    async byThread(viewer: RunViewer, threadId: string): Promise<RunRecord> {
      const ownerId = viewer.kind === "agent" ? viewer.agent.ownerId : viewer.user.userId;
      const run = await findRunByThread(db, ownerId, threadId, clock.now());
      if (!run || !maySeeRun(viewer, run)) throw noSuchRun();
      return run;
    },

    /** Runs the viewer may see, narrowed by the filter, newest first. */
    async list(viewer: RunViewer, filter: RunFilter, page: { limit: number; after?: { at: Date; id: string } }) {
      if (filter.agentId !== undefined && !isUuid(filter.agentId)) throw new UserInputError("Not a valid id", "filter.agentId");
      if (filter.ownerId !== undefined && !isUuid(filter.ownerId)) throw new UserInputError("Not a valid id", "filter.ownerId");
      const scope = listScope(viewer);
      // Narrowing to someone else is an empty page, never an error that tells them apart.
      const clash = (mine: string | undefined, asked: string | undefined) => mine !== undefined && asked !== undefined && mine !== asked;
      const scoped: RunFilter = { ...filter, ...scope };
      const none = clash(scope.agentId, filter.agentId) || clash(scope.ownerId, filter.ownerId);
      const now = clock.now();
      if (none) return { rows: [], hasNextPage: false, total: 0 };
      const [rows, total] = await Promise.all([listRuns(db, scoped, { ...page, limit: page.limit + 1 }, now), countRuns(db, scoped, now)]);
      return { rows: rows.slice(0, page.limit), hasNextPage: rows.length > page.limit, total };
    },

    /** The run behind a field (an action's, an audit row's): null when there is none or the viewer may not see it. */
    async linked(viewer: RunViewer, id: string | null): Promise<RunRecord | null> {
      if (id === null || !isUuid(id)) return null;
      const run = await findRun(db, id, clock.now());
      return run && maySeeRun(viewer, run) ? run : null;
    },

    /** The run an audit row concerns: a run's own row, or a row of one of its actions. */
    async ofAuditTarget(viewer: RunViewer, target: { type: string | null; id: string | null }): Promise<RunRecord | null> {
      if (target.id === null || !isUuid(target.id)) return null;
      if (target.type === "run") return this.linked(viewer, target.id);
      if (target.type !== "agent_action") return null;
      return this.linked(viewer, (await runIdsOfActions(db, [target.id])).get(target.id) ?? null);
    },

    // The parts of a run's view. Each re-applies the rule to the run it is given, so a field
    // reached without the run's own check still answers only those who may see the run.

    async actions(viewer: RunViewer, run: RunOwnership & { id: string }, page: { limit: number; after?: { decidedAt: Date; id: string } }) {
      if (!maySeeRun(viewer, run)) throw noSuchRun();
      const [rows, total] = await Promise.all([listActions(db, { runId: run.id }, { ...page, limit: page.limit + 1 }), countActions(db, { runId: run.id })]);
      return { rows: rows.slice(0, page.limit), hasNextPage: rows.length > page.limit, total };
    },

    async pendingApprovals(viewer: RunViewer, run: RunOwnership & { id: string }): Promise<ActionRow[]> {
      if (!maySeeRun(viewer, run)) throw noSuchRun();
      const now = clock.now();
      const rows = await listActions(db, { runId: run.id, statuses: ["PENDING_APPROVAL"] }, { limit: 200 });
      return rows.filter((row) => row.expiresAt === null || row.expiresAt > now);
    },

    async spend(viewer: RunViewer, run: RunOwnership & { id: string }) {
      if (!maySeeRun(viewer, run)) throw noSuchRun();
      return runSpend(db, run.id);
    },

    async log(viewer: RunViewer, run: RunOwnership & { id: string }, page: { first: number; beforeSeq?: bigint }) {
      if (!maySeeRun(viewer, run)) throw noSuchRun();
      const [found, total] = await Promise.all([runLog(db, run.id, page), countRunLog(db, run.id)]);
      return { ...found, total };
    },

    async reruns(viewer: RunViewer, run: RunOwnership & { id: string }): Promise<RunRecord[]> {
      if (!maySeeRun(viewer, run)) throw noSuchRun();
      return (await rerunsOf(db, run.id, clock.now())).filter((found) => maySeeRun(viewer, found));
    },
  };
}

export type RunService = ReturnType<typeof createRunService>;
