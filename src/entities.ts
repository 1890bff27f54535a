import { ApiKey } from './security/api-keys/api-key.entity';
import { IpRule } from './security/ip-rules/ip-rule.entity';
import { SecurityEvent } from './security/threats/security-event.entity';
import { AuditChainHead } from './security/audit/audit-chain-head.entity';
import { AuditEvent } from './security/audit/audit-event.entity';
import { Credential } from './security/credentials/credential.entity';
import { PasswordHistory } from './security/credentials/password-history.entity';
import { Session } from './security/sessions/session.entity';
import { MfaChallenge } from './security/mfa/mfa-challenge.entity';
import { RecoveryCode } from './security/mfa/recovery-code.entity';
import { TotpFactor } from './security/mfa/totp-factor.entity';
import { IdempotencyKey } from './trading/entities/idempotency-key.entity';
import { Instrument } from './trading/entities/instrument.entity';
import { PortfolioShare } from './trading/entities/portfolio-share.entity';
import { Portfolio } from './trading/entities/portfolio.entity';
import { Position } from './trading/entities/position.entity';
import { Price } from './trading/entities/price.entity';
import { Trade } from './trading/entities/trade.entity';
import { Group } from './users/groups/group.entity';
import { GroupMember } from './users/groups/group-member.entity';
import { UserActivity } from './users/activity/user-activity.entity';
import { User } from './users/users/user.entity';

/**
 * Every TypeORM entity of the application: the one list the app, the CLI and ormconfig.ts share,
 * so `migration:generate` sees exactly what the app maps.
 */
export const ENTITIES: Function[] = [
  User,
  Group,
  GroupMember,
  UserActivity,
  Credential,
  PasswordHistory,
  Session,
  AuditEvent,
  AuditChainHead,
  ApiKey,
  IpRule,
  SecurityEvent,
  TotpFactor,
  RecoveryCode,
  MfaChallenge,
  Instrument,
  Portfolio,
  PortfolioShare,
  Trade,
  Price,
  Position,
  IdempotencyKey,
];
