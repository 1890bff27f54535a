/**
 * With MFA_REQUIRED_ROLES set, a user holding one of those roles and no active MFA may only enrol
 * (and read their profile, and sign out) until MFA is active.
 */
export function mfaEnrolmentRequired(
  roles: readonly string[],
  requiredRoles: readonly string[],
  mfaEnabled: boolean,
): boolean {
  return !mfaEnabled && roles.some((role) => requiredRoles.includes(role));
}

/** Role names in MFA_REQUIRED_ROLES that are not roles: a typo must not silently switch MFA off. */
export function unknownRoles(requiredRoles: readonly string[], known: readonly string[]): string[] {
  return requiredRoles.filter((role) => !known.includes(role));
}
