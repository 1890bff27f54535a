/** Lockout policy: after `threshold` consecutive failures the account locks, longer each time. */
export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

export interface LockoutState {
  failedAttempts: number;
  lockLevel: number;
  lockedUntil: Date | null;
}

/** Whether the account is locked at `now`. */
export function isLocked(state: LockoutState, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime();
}

/**
 * The state after one more failed attempt. The n-th lock in a row lasts base·2^(n-1) seconds,
 * capped at the maximum: 1, 2, 4, 8, 15, 15 minutes with the defaults.
 */
export function afterFailure(
  state: LockoutState,
  policy: LockoutPolicy,
  now: Date,
): LockoutState & { lockedNow: boolean } {
  const failedAttempts = state.failedAttempts + 1;
  if (failedAttempts < policy.threshold) return { ...state, failedAttempts, lockedNow: false };
  const lockLevel = state.lockLevel + 1;
  const seconds = Math.min(policy.baseSeconds * 2 ** Math.min(lockLevel - 1, 30), policy.maxSeconds);
  return { failedAttempts: 0, lockLevel, lockedUntil: new Date(now.getTime() + seconds * 1000), lockedNow: true };
}

/** A success clears the count and the escalation. */
export function afterSuccess(): LockoutState {
  return { failedAttempts: 0, lockLevel: 0, lockedUntil: null };
}
