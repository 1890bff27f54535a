import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

export const ACTIVITY_TYPES = [
  'login',
  'login_failed',
  'logout',
  'token_refreshed',
  'refresh_token_reused',
  'password_changed',
  'profile_updated',
  'status_changed',
  'roles_changed',
  'groups_changed',
  'account_locked',
  'account_unlocked',
  'session_revoked',
  'registered',
  'api_key_used',
  'mfa_enabled',
  'mfa_disabled',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/** Something that happened to or was done by a user, shown to them and to administrators. */
@Entity('user_activities')
@Index('user_activities_user_idx', { synchronize: false }) // (user_id, occurred_at DESC, id DESC): declared in the migration
@Index('user_activities_login_device_idx', ['userId', 'ip', 'userAgent'], { where: "type = 'login'" })
export class UserActivity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'text' })
  type!: ActivityType;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ type: 'text', nullable: true })
  userAgent!: string | null;

  @Column({ type: 'uuid', nullable: true })
  apiKeyId!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: Record<string, unknown>;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  occurredAt!: Date;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'user_activities_user_id_fkey' })
  user?: User;
}
