import type { Permission } from '../rbac/permissions';
import type { Role } from '../rbac/roles';

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
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}
