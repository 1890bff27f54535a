import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { AuditActorType, AuditOutcome } from './audit-chain';

/**
 * One row of the append-only audit log (table `audit_events`, created by migration
 * `AuditLog1795870000100`). Rows are written only by `AuditService` and never updated or deleted:
 * the database refuses both. `AuditService` assigns the id in code rather than leaving it to the
 * column default, because the id is part of the hashed content.
 */
@Entity('audit_events')
@Check('audit_events_actor_type_check', "actor_type IN ('user', 'api_key', 'system')")
@Check('audit_events_outcome_check', "outcome IN ('success', 'failure', 'denied')")
@Check('audit_events_key_version_check', 'key_version >= 0')
@Index('audit_events_actor_id_idx', ['actorId'])
@Index('audit_events_action_idx', ['action'])
@Index('audit_events_target_idx', ['targetType', 'targetId'])
@Index('audit_events_occurred_at_idx', ['occurredAt'])
export class AuditEvent {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Position in the chain; bigint, so a decimal string in TypeScript. */
  @Column({ type: 'bigint', unique: true })
  seq!: string;

  @Column({ type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'text' })
  actorType!: AuditActorType;

  @Column({ type: 'text', nullable: true })
  actorId!: string | null;

  @Column({ type: 'text' })
  action!: string;

  @Column({ type: 'text', nullable: true })
  targetType!: string | null;

  @Column({ type: 'text', nullable: true })
  targetId!: string | null;

  @Column({ type: 'text' })
  outcome!: AuditOutcome;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ type: 'text', nullable: true })
  requestId!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: Record<string, unknown>;

  @Column({ type: 'char', length: 64 })
  prevHash!: string;

  @Column({ type: 'char', length: 64 })
  hash!: string;

  /** Chain key version of `hash` (HMAC-SHA256); 0: plain SHA-256, written before the chain was keyed. */
  @Column({ type: 'smallint', default: 0 })
  keyVersion!: number;
}
