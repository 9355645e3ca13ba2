import { eq } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { runs } from "../db/schema";
import { ConflictError, NotFoundError } from "../errors/errors";

/** SQLSTATE of the trigger that refuses an action of a finished run (migration 0013). */
const RUN_FINISHED_SQLSTATE = "RN001";

const finished = () => new ConflictError("The run is finished: it takes no new actions", "runId");

/**
 * The check an action naming a run passes before it is decided: the run exists and is the
 * submitting agent's (otherwise NOT_FOUND, the same answer for a run that does not exist and
 * for another agent's), and it is not finished (CONFLICT). The database trigger holds the
 * second rule at the insert as well, so a finishRun that commits between this check and
 * the decision still wins (`finishedRunRefusal`).
 */
export async function checkRunOpen(db: DbOrTx, agentId: string, runId: string): Promise<void> {
  const [run] = await db.select({ agentId: runs.agentId, finishedAt: runs.finishedAt }).from(runs).where(eq(runs.id, runId)).limit(1);
  if (!run || run.agentId !== agentId) throw new NotFoundError("No such run");
  if (run.finishedAt !== null) throw finished();
}

/** Runs remembered open per process (a bound on memory, not on correctness). */
const MAX_REMEMBERED = 10_000;

/**
 * `checkRunOpen` with a memory: a run's agent never changes, and a finished run is refused
 * by the trigger at the insert whatever this process believes, so a run seen open for an
 * agent is not read again for its next actions (a round trip saved on every action of a
 * run). A refusal by the trigger (`finishedRunRefusal`) makes the process `forget` the run,
 * so its next actions are refused by the check, before a decision is attempted.
 */
export function createRunGate(db: DbOrTx) {
  const open = new Map<string, string>();
  return {
    async check(agentId: string, runId: string): Promise<void> {
      if (open.get(runId) === agentId) return;
      await checkRunOpen(db, agentId, runId);
      if (open.size >= MAX_REMEMBERED) open.delete(open.keys().next().value as string);
      open.set(runId, agentId);
    },
    forget(runId: string): void {
      open.delete(runId);
    },
  };
}

/** The typed refusal when `error` is the trigger's (following `cause` links), else undefined. */
export function finishedRunRefusal(error: unknown): ConflictError | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if ((current as { code?: unknown }).code === RUN_FINISHED_SQLSTATE) return finished();
    current = current.cause;
  }
  return undefined;
}
