import type { AuditEventRow } from "../audit/audit-query";
import { UserInputError } from "../errors/errors";
import type { GraphQLContext } from "../graphql/context";
import { readsAuditDetails, type RunViewer } from "../runs/run-access";
import type { RunFilter, RunRecord } from "../runs/run.repository";
import type { AuditActorType, AuditOutcome } from "../schema/audit.types";
import type { Run, RunEvent, RunFilterInput, RunStatus } from "../schema/run.types";
import { encodeTimeCursor } from "./time-cursor";

/** The caller of a run field: the agent behind an API key, or the signed-in person. */
export async function runViewer(ctx: GraphQLContext): Promise<RunViewer> {
  if (ctx.auth.presentsAgentKey()) return { kind: "agent", agent: await ctx.auth.agent() };
  return { kind: "user", user: await ctx.auth.require() };
}

/** The status a run reads now: a running run with a live hold is WAITING_APPROVAL. */
export function runStatusOf(run: RunRecord): RunStatus {
  return run.status === "RUNNING" && run.held ? "WAITING_APPROVAL" : run.status;
}

export function runView(run: RunRecord): Run {
  return {
    id: run.id,
    ownerId: run.ownerId,
    agentId: run.agentId,
    threadId: run.threadId,
    name: run.name,
    instructions: run.instructions,
    initialData: run.initialData ?? null,
    metadata: run.metadata ?? null,
    status: runStatusOf(run),
    output: run.output ?? null,
    startedBy: run.startedByType.toUpperCase(),
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    updatedAt: run.updatedAt,
    rerunOfId: run.rerunOf,
  };
}

export const runCursor = (run: RunRecord): string => encodeTimeCursor(run.startedAt, run.id);

export function runFilterOf(filter: RunFilterInput | null | undefined): RunFilter {
  if (!filter) return {};
  return {
    statuses: filter.status ?? undefined,
    agentId: filter.agentId ?? undefined,
    ownerId: filter.ownerId ?? undefined,
    from: filter.from ?? undefined,
    to: filter.to ?? undefined,
  };
}

/** An audit row as a run's log shows it: details only to those who read the audit trail. */
export function runEventView(row: AuditEventRow, viewer: RunViewer): RunEvent {
  return {
    id: row.id,
    seq: row.seq.toString(),
    occurredAt: row.occurredAt,
    actorType: row.actorType as AuditActorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    outcome: row.outcome as AuditOutcome,
    details: readsAuditDetails(viewer) ? row.details : null,
  };
}

const MAX_SEQ = 9_223_372_036_854_775_807n;

export const seqCursor = (seq: bigint): string => Buffer.from(seq.toString()).toString("base64url");

/** A log page: `first` 1 to 200 (default 50), `after` a cursor this connection wrote. */
export function logPage(first: number | null | undefined, after: string | null | undefined): { first: number; beforeSeq?: bigint } {
  const limit = first ?? 50;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200) throw new UserInputError("first must be 1 to 200", "first");
  if (!after) return { first: limit };
  const text = Buffer.from(after, "base64url").toString();
  if (!/^[1-9][0-9]{0,18}$/.test(text) || BigInt(text) > MAX_SEQ) throw new UserInputError("Invalid cursor", "after");
  return { first: limit, beforeSeq: BigInt(text) };
}
