import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type IpRuleAction = 'allow' | 'deny';
export type IpRuleSource = 'manual' | 'config' | 'threat';

/** Allow or deny a single address or a CIDR range; deny wins; a rule may expire. */
@Entity('ip_rules')
@Index('ip_rules_expires_idx', ['expiresAt'])
@Check('ip_rules_action_check', `action IN ('allow', 'deny')`)
@Check('ip_rules_source_check', `source IN ('manual', 'config', 'threat')`)
export class IpRule {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  action!: IpRuleAction;

  /** Normalised CIDR: a single address is stored as /32 or /128. */
  @Column({ type: 'text' })
  cidr!: string;

  @Column({ type: 'varchar', length: 500, default: '' })
  description!: string;

  @Column({ type: 'text', default: 'manual' })
  source!: IpRuleSource;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'uuid', nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
