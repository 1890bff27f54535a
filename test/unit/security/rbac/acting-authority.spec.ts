import { actingRoles, notHeld } from '../../../../src/security/rbac/acting-authority';
import { ALL_PERMISSIONS, type Permission } from '../../../../src/security/rbac/permissions';
import {
  canChangeRoles,
  canGrantRole,
  effectivePermissions,
  highestRank,
  permissionsForRoles,
  type Role,
} from '../../../../src/security/rbac/roles';

const person = (...roles: Role[]) => ({ roles, permissions: permissionsForRoles(roles) });
/** A key: its owner's roles, permissions = scopes ∩ owner's permissions (as ApiKeysService computes them). */
const key = (roles: Role[], scopes: Permission[]) => {
  const owner = permissionsForRoles(roles);
  return { roles, permissions: new Set(scopes.filter((s) => owner.has(s))) };
};
const viewer = [...effectivePermissions('viewer')];
const trader = [...effectivePermissions('trader')];

describe('actingRoles: who is acting in grant decisions', () => {
  it('gives a person their roles and every role those inherit, so the rank rules are unchanged', () => {
    expect(actingRoles(person('admin')).sort()).toEqual(
      ['admin', 'analyst', 'auditor', 'manager', 'trader', 'viewer'].sort(),
    );
    expect(actingRoles(person('super_admin'))).toContain('super_admin');
    expect(actingRoles(person('viewer'))).toEqual(['viewer']);
    expect(actingRoles(person())).toEqual([]);
  });

  it('gives a super_admin key scoped users:create no role at all: it grants nothing', () => {
    const acting = actingRoles(key(['super_admin'], ['users:create']));
    expect(acting).toEqual([]);
    for (const role of ['super_admin', 'admin', 'viewer'] as Role[]) expect(canGrantRole(acting, role)).toBe(false);
  });

  it('lets a key grant only roles whose every permission is in its scopes', () => {
    const acting = actingRoles(key(['super_admin'], ['users:manage-roles', ...trader]));
    expect(acting.sort()).toEqual(['trader', 'viewer']);
    expect(canGrantRole(acting, 'trader')).toBe(true);
    expect(canGrantRole(acting, 'viewer')).toBe(true);
    expect(canGrantRole(acting, 'analyst')).toBe(false);
    expect(canGrantRole(acting, 'admin')).toBe(false);
    expect(canChangeRoles(acting, ['viewer'], ['trader'])).toBe(true);
    expect(canChangeRoles(acting, ['manager'], ['trader'])).toBe(false);
  });

  it('ranks a key by the roles its scopes cover, for acting on other users', () => {
    expect(highestRank(actingRoles(key(['admin'], ['users:manage-status'])))).toBe(0);
    expect(highestRank(actingRoles(key(['admin'], ['users:manage-status', ...viewer])))).toBe(10);
    expect(highestRank(actingRoles(key(['admin'], [...ALL_PERMISSIONS])))).toBe(80);
  });

  it('never gives a key more than its owner: a viewer\u2019s key scoped with everything is a viewer', () => {
    expect(actingRoles(key(['viewer'], [...ALL_PERMISSIONS]))).toEqual(['viewer']);
    expect(actingRoles(key(['admin'], [...ALL_PERMISSIONS]))).not.toContain('super_admin');
  });

  it('ignores unknown stored roles', () => {
    expect(actingRoles({ roles: ['ghost' as Role], permissions: new Set(ALL_PERMISSIONS) })).toEqual([]);
  });

  it('lists the group permissions a caller may not hand on', () => {
    expect(notHeld(key(['super_admin'], ['groups:manage']), ['users:manage-roles', 'groups:manage'])).toEqual([
      'users:manage-roles',
    ]);
    expect(notHeld(person('manager'), ['trades:write'])).toEqual([]);
  });
});
