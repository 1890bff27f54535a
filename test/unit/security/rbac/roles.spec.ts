import {
  ALL_PERMISSIONS,
  PERMISSIONS,
  PERMISSION_PATTERN,
  isPermission,
} from '../../../../src/security/rbac/permissions';
import {
  ROLES,
  ROLE_DEFINITIONS,
  SUPER_ADMIN_ONLY_PERMISSIONS,
  canChangeRoles,
  canGrantRole,
  describeRoles,
  effectivePermissions,
  highestRank,
  isRole,
  permissionsForRoles,
  reachableRoles,
  resolveInheritance,
  roleRank,
  type Role,
} from '../../../../src/security/rbac/roles';
import type { Permission } from '../../../../src/security/rbac/permissions';

describe('permission catalogue', () => {
  it('has at least 15 permissions, all shaped resource:action with a description', () => {
    expect(ALL_PERMISSIONS.length).toBeGreaterThanOrEqual(15);
    for (const permission of ALL_PERMISSIONS) {
      expect(permission).toMatch(PERMISSION_PATTERN);
      expect(PERMISSIONS[permission].length).toBeGreaterThan(10);
    }
  });

  it('covers every permission the routes are known to need', () => {
    const required = [
      'users:read',
      'users:create',
      'users:update',
      'users:manage-roles',
      'users:manage-status',
      'users:read-activity',
      'groups:read',
      'groups:manage',
      'roles:read',
      'sessions:manage',
      'audit:read',
      'audit:verify',
      'security-events:read',
      'ip-rules:read',
      'ip-rules:manage',
      'api-keys:read-all',
      'api-keys:revoke-any',
      'keys:manage',
      'keys:use',
      'portfolios:read',
      'portfolios:create',
      'portfolios:read-all',
      'trades:read',
      'trades:write',
      'trades:write-any',
      'prices:write',
      'monitoring:read',
      'alert-rules:manage',
      'alerts:manage',
      'reports:read',
      'reports:create',
      'reports:read-all',
      'report-templates:manage',
      'report-schedules:manage',
      'system:read',
      'api-stats:read',
      'metrics:read',
    ];
    expect(required.filter((p) => !isPermission(p))).toEqual([]);
  });

  it('isPermission accepts catalogue entries only, not prototype keys or near misses', () => {
    expect(isPermission('trades:write')).toBe(true);
    for (const s of ['toString', '__proto__', 'constructor', 'trades:delete', 'TRADES:WRITE', '', 'trades']) {
      expect(isPermission(s)).toBe(false);
    }
  });

  it('cannot be widened at runtime', () => {
    expect(Object.isFrozen(ALL_PERMISSIONS)).toBe(true);
  });
});

describe('role table', () => {
  it('references only known roles and known permissions', () => {
    for (const role of ROLES) {
      const definition = ROLE_DEFINITIONS[role];
      expect(definition.inherits.filter((r) => !isRole(r))).toEqual([]);
      expect(definition.permissions.filter((p) => !isPermission(p))).toEqual([]);
    }
    expect(Object.keys(ROLE_DEFINITIONS).sort()).toEqual([...ROLES].sort());
  });

  it('has no inheritance cycle', () => {
    for (const role of ROLES) {
      for (const parent of ROLE_DEFINITIONS[role].inherits) {
        expect(reachableRoles(ROLE_DEFINITIONS, parent).has(role)).toBe(false);
      }
    }
  });

  it('gives every role an effective set that includes each role it inherits', () => {
    for (const role of ROLES) {
      const mine = effectivePermissions(role);
      for (const parent of ROLE_DEFINITIONS[role].inherits) {
        const missing = [...effectivePermissions(parent)].filter((p) => !mine.has(p));
        expect({ role, parent, missing }).toEqual({ role, parent, missing: [] });
      }
    }
  });

  it('never ranks a role below a role it inherits', () => {
    for (const role of ROLES) {
      for (const parent of ROLE_DEFINITIONS[role].inherits) {
        expect(roleRank(role)).toBeGreaterThanOrEqual(roleRank(parent));
      }
    }
  });

  it('is frozen, so the precomputed closure cannot go stale', () => {
    expect(Object.isFrozen(ROLE_DEFINITIONS)).toBe(true);
    expect(Object.isFrozen(ROLE_DEFINITIONS.viewer.permissions)).toBe(true);
    expect(() => (ROLE_DEFINITIONS.viewer.permissions as Permission[]).push('trades:write')).toThrow();
  });

  it('uses the agreed ranks', () => {
    expect(Object.fromEntries(ROLES.map((r) => [r, roleRank(r)]))).toEqual({
      super_admin: 100,
      admin: 80,
      manager: 60,
      trader: 40,
      analyst: 40,
      auditor: 40,
      viewer: 10,
    });
  });
});

describe('effective permissions by role', () => {
  it('super_admin holds every permission in the catalogue', () => {
    expect([...effectivePermissions('super_admin')].sort()).toEqual([...ALL_PERMISSIONS].sort());
  });

  it('admin holds everything except what only super_admin holds', () => {
    const admin = effectivePermissions('admin');
    const missing = ALL_PERMISSIONS.filter((p) => !admin.has(p));
    expect(missing.sort()).toEqual([...SUPER_ADMIN_ONLY_PERMISSIONS].sort());
    for (const needed of [
      'users:create',
      'users:update',
      'users:manage-roles',
      'users:manage-status',
      'sessions:manage',
      'ip-rules:manage',
      'api-keys:revoke-any',
      'audit:read',
      'audit:verify',
      'groups:manage',
      'system:read',
      'api-stats:read',
      'metrics:read',
    ] as const) {
      expect(admin.has(needed)).toBe(true);
    }
    expect(admin.has('keys:manage')).toBe(false);
  });

  it('viewer reads but cannot trade, publish prices or create reports', () => {
    const viewer = effectivePermissions('viewer');
    expect([...viewer].sort()).toEqual(
      ['monitoring:read', 'portfolios:read', 'prices:read', 'reports:read', 'roles:read', 'trades:read'].sort(),
    );
    for (const p of ['trades:write', 'prices:write', 'reports:create', 'portfolios:read-all'] as const) {
      expect(viewer.has(p)).toBe(false);
    }
  });

  it('trader trades but cannot publish the prices that value its own book', () => {
    const trader = effectivePermissions('trader');
    expect(trader.has('trades:write')).toBe(true);
    expect(trader.has('portfolios:create')).toBe(true);
    expect(trader.has('portfolios:update')).toBe(true);
    expect(trader.has('prices:write')).toBe(false);
    expect(trader.has('portfolios:read-all')).toBe(false);
  });

  it('gives trades:write-any (booking into portfolios one neither owns nor has a write share of) to super_admin alone', () => {
    expect(isPermission('trades:write-any')).toBe(true);
    expect(ROLES.filter((role) => effectivePermissions(role).has('trades:write-any'))).toEqual(['super_admin']);
    // Seeing every book is oversight, not a licence to book into it.
    expect(effectivePermissions('manager').has('portfolios:read-all')).toBe(true);
    expect(effectivePermissions('manager').has('trades:write-any')).toBe(false);
  });

  it('analyst reads every portfolio and runs reports, but cannot trade', () => {
    const analyst = effectivePermissions('analyst');
    expect(analyst.has('portfolios:read-all')).toBe(true);
    expect(analyst.has('reports:create')).toBe(true);
    expect(analyst.has('trades:write')).toBe(false);
    expect(analyst.has('portfolios:create')).toBe(false);
    expect(analyst.has('portfolios:update')).toBe(false);
  });

  it('auditor reads and verifies the audit log but changes nothing', () => {
    const auditor = effectivePermissions('auditor');
    for (const p of [
      'audit:read',
      'audit:verify',
      'security-events:read',
      'users:read',
      'users:read-activity',
      'ip-rules:read',
      'api-keys:read-all',
      'reports:read-all',
    ] as const) {
      expect(auditor.has(p)).toBe(true);
    }
    const writes = [...auditor].filter((p) => !/:(read|read-all|read-activity|verify)$/.test(p));
    expect(writes).toEqual([]);
    expect(auditor.has('users:update')).toBe(false);
  });

  it('manager supervises: groups, prices, alerting and report automation, but no user admin or audit', () => {
    const manager = effectivePermissions('manager');
    for (const p of [
      'trades:write',
      'portfolios:read-all',
      'reports:create',
      'users:read',
      'groups:manage',
      'users:read-activity',
      'prices:write',
      'alert-rules:manage',
      'alerts:manage',
      'report-templates:manage',
      'report-schedules:manage',
    ] as const) {
      expect(manager.has(p)).toBe(true);
    }
    for (const p of ['users:manage-roles', 'users:update', 'audit:read', 'sessions:manage'] as const) {
      expect(manager.has(p)).toBe(false);
    }
  });

  it('gives every permission to some role below super_admin, except the super_admin-only ones', () => {
    const belowSuper = permissionsForRoles(ROLES.filter((r) => r !== 'super_admin'));
    const unassigned = ALL_PERMISSIONS.filter((p) => !belowSuper.has(p));
    expect(unassigned).toEqual([...SUPER_ADMIN_ONLY_PERMISSIONS]);
  });
});

describe('permissionsForRoles', () => {
  it('unions roles and group-granted permissions', () => {
    const set = permissionsForRoles(['trader', 'auditor'], ['prices:write']);
    expect(set.has('trades:write')).toBe(true);
    expect(set.has('audit:read')).toBe(true);
    expect(set.has('prices:write')).toBe(true);
    expect(set.has('users:update')).toBe(false);
  });

  it('returns a fresh set and leaves the shared closure untouched', () => {
    const set = permissionsForRoles(['viewer']);
    set.add('trades:write');
    expect(effectivePermissions('viewer').has('trades:write')).toBe(false);
  });

  it('fails closed on stale database values: unknown roles and permissions grant nothing', () => {
    const set = permissionsForRoles(
      ['ghost' as Role, 'viewer'],
      ['trades:delete' as Permission, 'toString' as Permission],
    );
    expect([...set].sort()).toEqual([...effectivePermissions('viewer')].sort());
    expect(permissionsForRoles([]).size).toBe(0);
  });
});

describe('ranks and granting', () => {
  it('highestRank takes the maximum, 0 for none or unknown', () => {
    expect(highestRank(['viewer', 'manager', 'trader'])).toBe(60);
    expect(highestRank([])).toBe(0);
    expect(highestRank(['ghost' as Role])).toBe(0);
  });

  it('manager can grant trader, analyst and viewer but not admin or super_admin', () => {
    expect(canGrantRole(['manager'], 'trader')).toBe(true);
    expect(canGrantRole(['manager'], 'analyst')).toBe(true);
    expect(canGrantRole(['manager'], 'viewer')).toBe(true);
    expect(canGrantRole(['manager'], 'manager')).toBe(true);
    expect(canGrantRole(['manager'], 'admin')).toBe(false);
    expect(canGrantRole(['manager'], 'super_admin')).toBe(false);
  });

  it('manager cannot grant auditor: equal rank is not enough when it would hand out permissions it lacks', () => {
    expect(roleRank('auditor')).toBeLessThanOrEqual(roleRank('manager'));
    expect(canGrantRole(['manager'], 'auditor')).toBe(false);
  });

  it('admin grants every role up to manager and auditor, but never admin or super_admin', () => {
    for (const role of ['manager', 'trader', 'analyst', 'viewer', 'auditor'] as const) {
      expect(canGrantRole(['admin'], role)).toBe(true);
    }
    expect(canGrantRole(['admin'], 'admin')).toBe(false);
    expect(canGrantRole(['admin'], 'super_admin')).toBe(false);
    expect(canGrantRole(['admin', 'manager', 'auditor'], 'admin')).toBe(false);
  });

  it('only super_admin grants admin and super_admin', () => {
    expect(canGrantRole(['super_admin'], 'admin')).toBe(true);
    expect(canGrantRole(['super_admin'], 'super_admin')).toBe(true);
    for (const role of ROLES) expect(canGrantRole(['super_admin'], role)).toBe(true);
  });

  it('nobody grants above their own rank, and nobody with no roles grants anything', () => {
    expect(canGrantRole(['viewer'], 'trader')).toBe(false);
    expect(canGrantRole(['trader'], 'manager')).toBe(false);
    expect(canGrantRole(['trader'], 'analyst')).toBe(false); // same rank, different permissions
    for (const role of ROLES) expect(canGrantRole([], role)).toBe(false);
    expect(canGrantRole(['super_admin'], 'ghost' as Role)).toBe(false);
  });

  it('canChangeRoles checks every role added or removed, and protects users who outrank the granter', () => {
    expect(canChangeRoles(['admin'], ['viewer'], ['trader', 'viewer'])).toBe(true);
    expect(canChangeRoles(['admin'], ['trader'], ['admin'])).toBe(false); // promote to admin
    expect(canChangeRoles(['admin'], ['admin'], ['viewer'])).toBe(false); // demote a peer admin
    expect(canChangeRoles(['admin'], ['super_admin'], ['super_admin', 'viewer'])).toBe(false);
    expect(canChangeRoles(['super_admin'], ['admin'], ['viewer'])).toBe(true);
    expect(canChangeRoles(['admin'], ['ghost' as Role, 'viewer'], ['viewer'])).toBe(true); // drop a stale role
    expect(canChangeRoles(['manager'], ['viewer'], ['viewer', 'auditor'])).toBe(false);
  });
});

describe('describeRoles', () => {
  it('lists every role once, highest rank first, with sorted effective permissions', () => {
    const roles = describeRoles();
    expect(roles.map((r) => r.name).sort()).toEqual([...ROLES].sort());
    expect(roles[0].name).toBe('super_admin');
    expect(roles[roles.length - 1].name).toBe('viewer');
    const trader = roles.find((r) => r.name === 'trader');
    expect(trader?.permissions).toEqual([...effectivePermissions('trader')].sort());
  });
});

describe('isRole', () => {
  it('accepts the seven roles only', () => {
    for (const role of ROLES) expect(isRole(role)).toBe(true);
    for (const s of ['root', 'Admin', '', 'toString', 'super-admin']) expect(isRole(s)).toBe(false);
  });
});

describe('inheritance closure on synthetic tables', () => {
  it('is transitive', () => {
    const table = {
      a: { inherits: ['b'], permissions: ['p:a'] },
      b: { inherits: ['c'], permissions: ['p:b'] },
      c: { inherits: [], permissions: ['p:c'] },
    };
    const closed = resolveInheritance(table);
    expect([...(closed.get('a') ?? [])].sort()).toEqual(['p:a', 'p:b', 'p:c']);
    expect([...(closed.get('c') ?? [])]).toEqual(['p:c']);
  });

  it('terminates on a cycle and gives each member the union of the cycle', () => {
    const table = {
      a: { inherits: ['b'], permissions: ['p:a'] },
      b: { inherits: ['c'], permissions: ['p:b'] },
      c: { inherits: ['a'], permissions: ['p:c'] },
      d: { inherits: ['d', 'a'], permissions: ['p:d'] },
    };
    const closed = resolveInheritance(table);
    for (const role of ['a', 'b', 'c']) {
      expect([...(closed.get(role) ?? [])].sort()).toEqual(['p:a', 'p:b', 'p:c']);
    }
    expect([...(closed.get('d') ?? [])].sort()).toEqual(['p:a', 'p:b', 'p:c', 'p:d']);
    expect(reachableRoles(table, 'b').has('b')).toBe(true);
  });

  it('rejects an inherited role the table does not define', () => {
    const table = { a: { inherits: ['missing'], permissions: [] } };
    expect(() => resolveInheritance(table)).toThrow(/unknown role "missing"/);
  });
});
