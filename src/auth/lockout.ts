/**
 * Account lockout after repeated failed logins, pure. After `threshold` failures in a row
 * the account locks; each lockout in a row lasts twice as long as the one before, up to
 * `maxMs`. A successful login resets both counters.
 */
export interface LockoutPolicy {
  threshold: number;
  baseMs: number;
  maxMs: number;
}

export interface LockoutState {
  failedLoginCount: number;
  lockoutLevel: number;
  lockedUntil: Date | null;
}

export function isLocked(state: Pick<LockoutState, "lockedUntil">, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime();
}

export function lockDurationMs(level: number, policy: LockoutPolicy): number {
  return Math.min(policy.baseMs * 2 ** Math.min(level, 30), policy.maxMs);
}

/** The state after one more failed login; `locked` says whether this failure locked the account. */
export function afterFailure(state: LockoutState, policy: LockoutPolicy, now: Date): LockoutState & { locked: boolean } {
  const failures = state.failedLoginCount + 1;
  if (failures < policy.threshold) return { ...state, failedLoginCount: failures, locked: false };
  return {
    failedLoginCount: 0,
    lockoutLevel: state.lockoutLevel + 1,
    lockedUntil: new Date(now.getTime() + lockDurationMs(state.lockoutLevel, policy)),
    locked: true,
  };
}
