import { IdentityCore1795870000000 } from './1795870000000-IdentityCore';
import { AuditLog1795870000100 } from './1795870000100-AuditLog';

/**
 * Every migration, in order. Listed explicitly (not globbed) so the same list works from
 * TypeScript sources (tests, CLI) and from the compiled build.
 */
export const migrations: Function[] = [IdentityCore1795870000000, AuditLog1795870000100];
