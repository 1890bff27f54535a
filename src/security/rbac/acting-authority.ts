import type { Principal } from '../auth/principal';
import type { Permission } from './permissions';
import { effectivePermissions, isRole, reachableRoles, type Role, ROLE_DEFINITIONS } from './roles';

/** What the grant rules need to know about the caller of a request. */
export type Acting = Pick<Principal, 'roles' | 'permissions'>;

/**
 * Who is acting, for every decision whose reach depends on the actor: granting roles (directly or
 * by creating a user), acting on users who might outrank the caller, and granting permissions
 * through groups. This is the one place that answers it, and it answers from what the request may
 * do (`principal.permissions`), never from who owns the credential.
 *
 * The caller acts with the roles it *fully* holds: each role it has or inherits whose every
 * permission is in `principal.permissions`. A person holds all of their roles' permissions, so
 * they act with their roles and everything those inherit (the rank rules of `roles.ts`, unchanged).
 * An API key's permissions are its scopes intersected with its owner's live permissions, so a key
 * acts only with the owner's roles that its scopes cover completely: a super_admin's key scoped
 * `users:create` acts with no role at all, and can neither create a super_admin nor a viewer; a
 * key scoped `users:manage-roles` plus every trader permission acts as a trader, so it may grant
 * trader and act on traders and viewers, and nothing above. A key can never do more than its scopes.
 */
export function actingRoles(actor: Acting): Role[] {
  const reachable = new Set<Role>();
  for (const role of actor.roles) {
    if (!isRole(role)) continue;
    for (const reached of reachableRoles(ROLE_DEFINITIONS, role)) reachable.add(reached);
  }
  return [...reachable].filter((role) => {
    for (const permission of effectivePermissions(role)) if (!actor.permissions.has(permission)) return false;
    return true;
  });
}

/**
 * Permissions in `permissions` the caller may not hand on through a group: those outside what the
 * request may do (for a key: outside its scopes).
 */
export function notHeld(actor: Acting, permissions: readonly string[]): string[] {
  return permissions.filter((p) => !actor.permissions.has(p as Permission));
}
