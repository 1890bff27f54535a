import { ALL_PERMISSIONS, isPermission, type Permission } from './permissions';

/**
 * The fixed set of roles. Roles are code, not data: what a role may do is reviewed with the code
 * that enforces it. Finer, firm-specific grants go through groups, whose permissions are added
 * with `permissionsForRoles(roles, groupPermissions)`.
 */
export const ROLES = ['super_admin', 'admin', 'manager', 'trader', 'analyst', 'viewer', 'auditor'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** How a role is defined: its own permissions plus everything of the roles it inherits. */
export interface RoleDefinition {
  /** One line for `GET /api/v1/roles` and the admin console. */
  readonly description: string;
  /**
   * Seniority, used only for "nobody grants a role ranked above their own" (see
   * {@link canGrantRole}). Roles on separate branches (trader, analyst, auditor) share a rank.
   */
  readonly rank: number;
  /** Roles whose effective permissions this role includes. */
  readonly inherits: readonly Role[];
  /** Permissions this role adds on top of what it inherits. */
  readonly permissions: readonly Permission[];
}

/**
 * Permissions that only super_admin holds. Key custody is separated from user administration:
 * creating, rotating and rewrapping the keys that protect stored secrets (TOTP seeds, encrypted
 * data) can make data unreadable or re-expose it, so an admin account that is phished or misused
 * cannot do it. Admins can still use named keys (`keys:use`).
 *
 * `trades:write-any` (recording trades in someone else's portfolio without a write share) is
 * held by super_admin alone by default: seeing every book (`portfolios:read-all`) is oversight,
 * and booking into another trader's portfolio is exactly what it must not allow. Grant it to a
 * group when an operations desk needs it.
 */
export const SUPER_ADMIN_ONLY_PERMISSIONS: readonly Permission[] = Object.freeze([
  'keys:manage',
  'trades:write-any',
] as const);

/**
 * The role table. Decisions worth knowing:
 *
 * - `prices:write` is not a trader permission. Prices value every position, so a trader who can
 *   publish prices can mark their own book (the classic failure that independent price
 *   verification exists to prevent). Prices come from market-data integrations; give such an
 *   integration an API key owned by a manager or admin. Managers hold it as the desk's
 *   supervisory / middle-office role.
 * - analyst is read-only analysis: every portfolio (`portfolios:read-all`) and its own reports,
 *   but no trading.
 * - auditor is a separate, read-only compliance branch. It reads the audit log, security events,
 *   users, groups (to review who holds which permissions), IP rules, API key metadata and the
 *   reports others ran (`reports:read-all`, limited to data the auditor may read: the security
 *   and activity reports, not trading books), but changes nothing and cannot trade. It is not part of manager, so managers cannot read the
 *   audit trail that records their own actions; admin inherits both branches.
 * - `metrics:read` goes to manager because managers write alert rules, which are expressions over
 *   metric names and history.
 * - `users:manage-roles` stays with admin; {@link canGrantRole} then limits which roles an admin
 *   may hand out.
 */
export const ROLE_DEFINITIONS: { readonly [R in Role]: RoleDefinition } = deepFreeze({
  viewer: {
    description: 'Reads own and shared portfolios and trades, the monitoring dashboard and reports',
    rank: 10,
    inherits: [],
    permissions: ['portfolios:read', 'trades:read', 'prices:read', 'monitoring:read', 'reports:read', 'roles:read'],
  },
  analyst: {
    description: 'Read-only analysis across every portfolio; runs reports',
    rank: 40,
    inherits: ['viewer'],
    permissions: ['portfolios:read-all', 'reports:create'],
  },
  trader: {
    description: 'Creates portfolios and records trades',
    rank: 40,
    inherits: ['viewer'],
    permissions: ['portfolios:create', 'portfolios:update', 'trades:write'],
  },
  auditor: {
    description: 'Read-only compliance: audit log and its verification, security events, access review',
    rank: 40,
    inherits: ['viewer'],
    permissions: [
      'audit:read',
      'audit:verify',
      'security-events:read',
      'users:read',
      'users:read-activity',
      'groups:read',
      'ip-rules:read',
      'api-keys:read-all',
      'reports:read-all',
    ],
  },
  manager: {
    description: 'Supervises a desk: trading and analysis, groups, prices, alerting and report automation',
    rank: 60,
    inherits: ['trader', 'analyst'],
    permissions: [
      'users:read',
      'users:read-activity',
      'groups:read',
      'groups:manage',
      'prices:write',
      'metrics:read',
      'alert-rules:manage',
      'alerts:manage',
      'report-templates:manage',
      'report-schedules:manage',
    ],
  },
  admin: {
    description: 'Administers users, access, sessions, IP rules and API keys; everything but key custody',
    rank: 80,
    inherits: ['manager', 'auditor'],
    permissions: [
      'users:create',
      'users:update',
      'users:manage-roles',
      'users:manage-status',
      'sessions:manage',
      'ip-rules:manage',
      'api-keys:revoke-any',
      'keys:use',
      'system:read',
      'api-stats:read',
    ],
  },
  super_admin: {
    description: 'Holds every permission, including key custody; the only role that grants admin',
    rank: 100,
    inherits: ['admin'],
    // Every catalogue permission, so a new permission can never be out of super_admin's reach.
    permissions: [...ALL_PERMISSIONS],
  },
});

/** The minimal shape {@link resolveInheritance} needs, so it can be tested on synthetic tables. */
export interface InheritanceTable<R extends string, P> {
  readonly [role: string]: { readonly inherits: readonly R[]; readonly permissions: readonly P[] };
}

/**
 * Every role reachable from `start` through `inherits`, `start` included. Breadth-first with a
 * visited set, so a cycle (a mistake, but one that must not hang the process at boot) simply
 * stops the walk. Throws on an inherited role that the table does not define.
 *
 * @internal exported for tests and for {@link resolveInheritance}.
 */
export function reachableRoles<R extends string>(table: InheritanceTable<R, unknown>, start: R): Set<R> {
  if (!Object.hasOwn(table, start)) throw new Error(`Unknown role "${start}"`);
  const seen = new Set<R>([start]);
  const queue: R[] = [start];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const parent of table[next].inherits) {
      if (!Object.hasOwn(table, parent)) throw new Error(`Role "${next}" inherits unknown role "${parent}"`);
      if (!seen.has(parent)) {
        seen.add(parent);
        queue.push(parent);
      }
    }
  }
  return seen;
}

/**
 * The transitive closure of a role table: for each role, its own permissions plus those of every
 * role it reaches. Roles on a cycle end up with the union of the cycle. Pure and generic so the
 * cycle behaviour can be tested without touching the real table.
 *
 * @internal exported for tests; use {@link effectivePermissions}.
 */
export function resolveInheritance<R extends string, P>(table: InheritanceTable<R, P>): Map<R, ReadonlySet<P>> {
  const result = new Map<R, ReadonlySet<P>>();
  for (const role of Object.keys(table) as R[]) {
    const permissions = new Set<P>();
    for (const reached of reachableRoles(table, role)) {
      for (const permission of table[reached].permissions) permissions.add(permission);
    }
    result.set(role, permissions);
  }
  return result;
}

/** Computed once at load: the table is frozen, so the closure can never go stale. */
const EFFECTIVE: ReadonlyMap<Role, ReadonlySet<Permission>> = resolveInheritance<Role, Permission>(ROLE_DEFINITIONS);

/** Narrows an untrusted string (a stored role, a request body) to a {@link Role}. */
export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/**
 * Everything a role may do, inherited permissions included. The set is shared and precomputed:
 * treat it as read-only (copy it before adding to it, as {@link permissionsForRoles} does).
 */
export function effectivePermissions(role: Role): ReadonlySet<Permission> {
  const permissions = EFFECTIVE.get(role);
  if (!permissions) throw new Error(`Unknown role "${String(role)}"`);
  return permissions;
}

/**
 * The permissions of a principal: the union of its roles' effective permissions and `extra`
 * (permissions granted through groups). Values are re-checked at runtime because both usually
 * come from the database: an unknown role or a permission that has left the catalogue grants
 * nothing rather than throwing, so a stale row fails closed without locking everyone out.
 */
export function permissionsForRoles(roles: Iterable<Role>, extra: Iterable<Permission> = []): Set<Permission> {
  const result = new Set<Permission>();
  for (const role of roles) {
    if (!isRole(role)) continue;
    for (const permission of effectivePermissions(role)) result.add(permission);
  }
  for (const permission of extra) {
    if (isPermission(permission)) result.add(permission);
  }
  return result;
}

/** A role's rank; 0 for anything that is not a role. */
export function roleRank(role: Role): number {
  return isRole(role) ? ROLE_DEFINITIONS[role].rank : 0;
}

/** The highest rank among `roles`; 0 when there are none. */
export function highestRank(roles: Iterable<Role>): number {
  let highest = 0;
  for (const role of roles) highest = Math.max(highest, roleRank(role));
  return highest;
}

/** Roles that only a super_admin may grant or remove. */
const SUPER_ADMIN_GRANTED: ReadonlySet<Role> = new Set<Role>(['admin', 'super_admin']);

/**
 * Whether someone holding `granterRoles` may give `role` to (or take it from) a user. This is the
 * anti-escalation check layered on top of the `users:manage-roles` permission, which the caller
 * must check separately. Three rules, all required:
 *
 * 1. nobody grants a role ranked above their own highest rank;
 * 2. only a super_admin grants admin or super_admin, so an admin cannot mint peers;
 * 3. nobody grants a permission they do not hold through their roles: the role's effective
 *    permissions must be a subset of the granter's. Rule 1 alone would let a manager (60) grant
 *    auditor (40) and with it the audit log that a manager cannot read. Group-granted
 *    permissions deliberately do not count here.
 */
export function canGrantRole(granterRoles: Iterable<Role>, role: Role): boolean {
  if (!isRole(role)) return false;
  const granter = [...granterRoles].filter(isRole);
  if (SUPER_ADMIN_GRANTED.has(role) && !granter.includes('super_admin')) return false;
  if (roleRank(role) > highestRank(granter)) return false;
  const held = permissionsForRoles(granter);
  for (const permission of effectivePermissions(role)) {
    if (!held.has(permission)) return false;
  }
  return true;
}

/**
 * Whether someone holding `granterRoles` may change a user's roles from `currentRoles` to
 * `nextRoles` (`PUT /api/v1/users/:id/roles`): every role added or removed must pass
 * {@link canGrantRole}, and the target must not outrank the granter, so an admin can neither
 * demote a super_admin nor strip another admin. Roles kept unchanged need no check.
 */
export function canChangeRoles(
  granterRoles: Iterable<Role>,
  currentRoles: Iterable<Role>,
  nextRoles: Iterable<Role>,
): boolean {
  const granter = [...granterRoles];
  const current = new Set(currentRoles);
  const next = new Set(nextRoles);
  if (highestRank(current) > highestRank(granter)) return false;
  for (const role of next) if (!current.has(role) && !canGrantRole(granter, role)) return false;
  // A stale, unknown role grants nothing, so removing it needs no rank.
  for (const role of current) if (!next.has(role) && isRole(role) && !canGrantRole(granter, role)) return false;
  return true;
}

/** A role as `GET /api/v1/roles` shows it. */
export interface RoleDescription {
  name: Role;
  description: string;
  rank: number;
  inherits: Role[];
  /** Effective permissions, inherited ones included, sorted. */
  permissions: Permission[];
}

/** Every role with its effective permissions, highest rank first, for `GET /api/v1/roles`. */
export function describeRoles(): RoleDescription[] {
  const byRank = [...ROLES].sort((a, b) => roleRank(b) - roleRank(a));
  return byRank.map((name) => ({
    name,
    description: ROLE_DEFINITIONS[name].description,
    rank: ROLE_DEFINITIONS[name].rank,
    inherits: [...ROLE_DEFINITIONS[name].inherits],
    permissions: [...effectivePermissions(name)].sort(),
  }));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
