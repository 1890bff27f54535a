import { CidrSet } from '../../common/net/cidr';

export interface AllowRuleWindow {
  cidr: string;
  /** null: never expires. */
  expiresAt: Date | null;
}

/**
 * When the allow rules would turn `ip` away, or null if never. While any allow rule is in force,
 * only addresses it covers get in; so the caller is locked out from the moment the last rule
 * covering them expires (now, if none does) for as long as some other allow rule still stands.
 * Allowing your own address only until a time, while a permanent allow-list exists, is a lockout
 * in waiting: it answers that time.
 */
export function allowListLockoutAt(rules: AllowRuleWindow[], ip: string, now: Date): Date | null {
  const live = rules.filter((r) => r.expiresAt === null || r.expiresAt > now);
  if (live.length === 0) return null;
  const end = (r: AllowRuleWindow): number => (r.expiresAt === null ? Infinity : r.expiresAt.getTime());
  const listUntil = Math.max(...live.map(end));
  const covering = live.filter((r) => new CidrSet([r.cidr]).has(ip));
  const coveredUntil = covering.length === 0 ? now.getTime() : Math.max(...covering.map(end));
  return coveredUntil < listUntil ? new Date(coveredUntil) : null;
}
