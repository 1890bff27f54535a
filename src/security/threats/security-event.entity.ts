import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const SECURITY_EVENT_TYPES = [
  'brute_force',
  'credential_stuffing',
  'refresh_token_reuse',
  'mfa_failures',
  'forbidden_burst',
  'new_device_login',
  'ip_blocked',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Something the threat detector noticed. */
@Entity('security_events')
@Index('security_events_time_idx', { synchronize: false }) // (occurred_at DESC, id DESC): declared in the migration
@Index('security_events_type_idx', { synchronize: false })
@Check('security_events_severity_check', `severity IN ('low', 'medium', 'high', 'critical')`)
export class SecurityEvent {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  type!: SecurityEventType;

  @Column({ type: 'text' })
  severity!: Severity;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ type: 'uuid', nullable: true })
  userId!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: Record<string, unknown>;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  occurredAt!: Date;
}
