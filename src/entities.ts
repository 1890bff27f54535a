import { AuditChainHead } from './security/audit/audit-chain-head.entity';
import { AuditEvent } from './security/audit/audit-event.entity';
import { Credential } from './security/credentials/credential.entity';
import { PasswordHistory } from './security/credentials/password-history.entity';
import { Session } from './security/sessions/session.entity';
import { Group } from './users/entities/group.entity';
import { GroupMember } from './users/entities/group-member.entity';
import { UserActivity } from './users/entities/user-activity.entity';
import { User } from './users/entities/user.entity';

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
];
