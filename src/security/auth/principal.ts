import type { Permission } from '../rbac/permissions';
import type { Role } from '../rbac/roles';
import type { SessionAccount } from '../sessions/sessions.repository';

/** The authenticated caller of a request, as the global guard established it. */
export interface Principal {
  userId: string;
  email: string;
  roles: Role[];
  /** What this request may do: the user's roles and groups, narrowed by an API key's scopes. */
  permissions: ReadonlySet<Permission>;
  /** The session behind a bearer token. */
  sessionId?: string;
  /** The API key used instead of a bearer token. */
  apiKeyId?: string;
  /** A role of the user is in MFA_REQUIRED_ROLES and MFA is not active: only `@AllowMfaEnrolment()` routes. */
  mfaEnrolmentRequired?: boolean;
  /**
   * The session's user as the guard read it in its one query (profile, groups, lock, MFA state),
   * so GET /me answers without a second query. Absent for API keys.
   */
  account?: SessionAccount & { status: string; mfaEnabled: boolean; passwordExpired: boolean };
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}
