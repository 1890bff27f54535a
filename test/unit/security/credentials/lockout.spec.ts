import {
  afterFailure,
  afterSuccess,
  isLocked,
  type LockoutPolicy,
  type LockoutState,
} from '../../../../src/security/credentials/lockout';

const policy: LockoutPolicy = { threshold: 5, baseSeconds: 60, maxSeconds: 900 };
const t0 = new Date('2026-11-28T12:00:00Z');
const clean: LockoutState = { failedAttempts: 0, lockLevel: 0, lockedUntil: null };

function failTimes(n: number, state = clean, now = t0) {
  let s: ReturnType<typeof afterFailure> = { ...state, lockedNow: false };
  for (let i = 0; i < n; i++) s = afterFailure(s, policy, now);
  return s;
}

describe('lockout', () => {
  it('does not lock before the threshold', () => {
    const s = failTimes(4);
    expect(s).toMatchObject({ failedAttempts: 4, lockLevel: 0, lockedUntil: null, lockedNow: false });
    expect(isLocked(s, t0)).toBe(false);
  });

  it('locks for one minute at the fifth consecutive failure and resets the count', () => {
    const s = failTimes(5);
    expect(s.lockedNow).toBe(true);
    expect(s.failedAttempts).toBe(0);
    expect(s.lockedUntil!.getTime() - t0.getTime()).toBe(60_000);
    expect(isLocked(s, new Date(t0.getTime() + 59_999))).toBe(true);
    expect(isLocked(s, new Date(t0.getTime() + 60_000))).toBe(false);
  });

  it('doubles each further lock up to the maximum', () => {
    let state = { ...clean } as ReturnType<typeof afterFailure>;
    const durations: number[] = [];
    for (let lock = 0; lock < 6; lock++) {
      state = failTimes(5, state);
      durations.push((state.lockedUntil!.getTime() - t0.getTime()) / 1000);
    }
    expect(durations).toEqual([60, 120, 240, 480, 900, 900]);
  });

  it('clears the count and the escalation on success', () => {
    expect(afterSuccess()).toEqual(clean);
  });
});
