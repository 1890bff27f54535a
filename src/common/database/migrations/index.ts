import { IdentityCore1795870000000 } from './1795870000000-IdentityCore';
import { AuditLog1795870000100 } from './1795870000100-AuditLog';
import { Mfa1795870000200 } from './1795870000200-Mfa';
import { Trading1795870000300 } from './1795870000300-Trading';
import { ApiKeysIpRulesThreats1795870000400 } from './1795870000400-ApiKeysIpRulesThreats';
import { Reporting1795870001500 } from './1795870001500-Reporting';

/**
 * Every migration, in order. Listed explicitly (not globbed) so the same list works from
 * TypeScript sources (tests, CLI) and from the compiled build.
 */
export const migrations: Function[] = [
  IdentityCore1795870000000,
  AuditLog1795870000100,
  Mfa1795870000200,
  Trading1795870000300,
  ApiKeysIpRulesThreats1795870000400,
  Reporting1795870001500,
];
