import { hasPermission, type AgentPrincipal, type Principal } from "../auth/principal";

/**
 * Who asks about runs: an agent (its own runs only) or a person (their own; everyone's with
 * runs:read). Pure rules, no I/O: the service applies them to rows it has read, and a run
 * the viewer may not see is NOT_FOUND (or null where a field leads to it), never another
 * answer, so nobody learns that another user's run exists.
 */
export type RunViewer = { kind: "agent"; agent: AgentPrincipal } | { kind: "user"; user: Principal };

/** What the rules need of a run. */
export interface RunOwnership {
  ownerId: string;
  agentId: string;
}

export function maySeeRun(viewer: RunViewer, run: RunOwnership): boolean {
  if (viewer.kind === "agent") return run.agentId === viewer.agent.agentId;
  return run.ownerId === viewer.user.userId || hasPermission(viewer.user, "runs:read");
}

/** Finishing and re-running: the run's agent or its owner (runs:read alone only reads). */
export function mayDriveRun(viewer: RunViewer, run: RunOwnership): boolean {
  if (viewer.kind === "agent") return run.agentId === viewer.agent.agentId;
  return run.ownerId === viewer.user.userId;
}

/** Cancelling: the run's agent, its owner, or anyone with runs:write. */
export function mayCancelRun(viewer: RunViewer, run: RunOwnership): boolean {
  return mayDriveRun(viewer, run) || (viewer.kind === "user" && hasPermission(viewer.user, "runs:write"));
}

/** Whether a person sees the run's full audit rows (details, ip): those who may read the audit trail. */
export function readsAuditDetails(viewer: RunViewer): boolean {
  return viewer.kind === "user" && hasPermission(viewer.user, "audit:read");
}

/**
 * The narrowing a list applies: an agent sees its runs, a person without runs:read theirs;
 * undefined members leave the filter as asked.
 */
export function listScope(viewer: RunViewer): { agentId?: string; ownerId?: string } {
  if (viewer.kind === "agent") return { agentId: viewer.agent.agentId };
  return hasPermission(viewer.user, "runs:read") ? {} : { ownerId: viewer.user.userId };
}
