import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../../users/users/user.entity';

/** The pending second step of one login (see mfa-challenge.ts). Only the token's SHA-256 is kept. */
@Entity('mfa_challenges')
@Index('mfa_challenges_token_hash_key', ['tokenHash'], { unique: true })
@Index('mfa_challenges_user_idx', ['userId'])
export class MfaChallenge {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'char', length: 64 })
  tokenHash!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz' })
  expiresAt!: Date;

  /** Set by the successful code, or when the challenge is burnt (too many attempts, account locked). */
  @Column({ type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'mfa_challenges_user_id_fkey' })
  user?: User;
}
