import { IdentityCore1795870000000 } from './1795870000000-IdentityCore';
import { AuditLog1795870000100 } from './1795870000100-AuditLog';
import { Mfa1795870000200 } from './1795870000200-Mfa';
import { Trading1795870000300 } from './1795870000300-Trading';
import { ApiKeysIpRulesThreats1795870000400 } from './1795870000400-ApiKeysIpRulesThreats';
import { LockOnCredential1795870001100 } from './1795870001100-LockOnCredential';
import { KeyedAuditChain1795870001110 } from './1795870001110-KeyedAuditChain';
import { TradingOwnership1795870001120 } from './1795870001120-TradingOwnership';
import { PositionSnapshots1795870001200 } from './1795870001200-PositionSnapshots';
import { EmailSkeleton1795870001210 } from './1795870001210-EmailSkeleton';
import { Monitoring1795870001400 } from './1795870001400-Monitoring';
import { Reporting1795870001500 } from './1795870001500-Reporting';
import { KeyManagement1795870001600 } from './1795870001600-KeyManagement';
import { PortfolioArchive1795882000000 } from './1795882000000-PortfolioArchive';
import { LoginDeviceIndex1796200000000 } from './1796200000000-LoginDeviceIndex';
import { ReportDeliveries1796300000000 } from './1796300000000-ReportDeliveries';

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
  LockOnCredential1795870001100,
  KeyedAuditChain1795870001110,
  TradingOwnership1795870001120,
  PositionSnapshots1795870001200,
  EmailSkeleton1795870001210,
  Monitoring1795870001400,
  Reporting1795870001500,
  KeyManagement1795870001600,
  PortfolioArchive1795882000000,
  LoginDeviceIndex1796200000000,
  ReportDeliveries1796300000000,
];
