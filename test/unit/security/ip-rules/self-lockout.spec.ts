import { allowListLockoutAt } from '../../../../src/security/ip-rules/self-lockout';

const now = new Date('2026-06-01T00:00:00Z');
const later = (h: number) => new Date(now.getTime() + h * 3_600_000);

describe('allow-list self-lockout', () => {
  it('is none without allow rules, or when a lasting rule covers the address', () => {
    expect(allowListLockoutAt([], '127.0.0.1', now)).toBeNull();
    expect(allowListLockoutAt([{ cidr: '127.0.0.0/8', expiresAt: null }], '127.0.0.1', now)).toBeNull();
  });

  it('is now when allow rules exist and none covers the address', () => {
    expect(allowListLockoutAt([{ cidr: '10.0.0.0/8', expiresAt: null }], '127.0.0.1', now)).toEqual(now);
  });

  it('is the expiry of the only rule covering the address while another rule outlasts it', () => {
    const rules = [
      { cidr: '127.0.0.1', expiresAt: later(1) },
      { cidr: '10.0.0.0/8', expiresAt: null },
    ];
    expect(allowListLockoutAt(rules, '127.0.0.1', now)).toEqual(later(1));
    // Once every allow rule has expired the list is empty and everyone gets in again.
    expect(allowListLockoutAt([{ cidr: '127.0.0.1', expiresAt: later(1) }], '127.0.0.1', now)).toBeNull();
    expect(
      allowListLockoutAt(
        [
          { cidr: '127.0.0.1', expiresAt: later(2) },
          { cidr: '10.0.0.0/8', expiresAt: later(1) },
        ],
        '127.0.0.1',
        now,
      ),
    ).toBeNull();
  });

  it('ignores rules already expired', () => {
    expect(allowListLockoutAt([{ cidr: '10.0.0.0/8', expiresAt: later(-1) }], '127.0.0.1', now)).toBeNull();
  });
});
