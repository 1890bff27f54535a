import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../../users/users/user.entity';

export const RATE_TIERS = ['standard', 'elevated', 'bulk'] as const;
export type RateTier = (typeof RATE_TIERS)[number];

/** An integrator's credential. The secret is never stored: only its SHA-256 and a display prefix. */
@Entity('api_keys')
@Index('api_keys_key_hash_key', ['keyHash'], { unique: true })
@Index('api_keys_user_idx', ['userId', 'createdAt'])
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  /** The first characters of the key (`bst_ab12cd34`), so owners can tell keys apart. */
  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  @Column({ type: 'char', length: 64 })
  keyHash!: string;

  @Column({ type: 'text', array: true })
  scopes!: string[];

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  allowedCidrs!: string[];

  @Column({ type: 'text', default: 'standard' })
  rateTier!: RateTier;

  @Column({ type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  lastUsedIp!: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'uuid', nullable: true })
  revokedBy!: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'api_keys_user_id_fkey' })
  user?: User;
}
