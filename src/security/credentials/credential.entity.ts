import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../../users/users/user.entity';

/** A user's password hash and the lockout state that guards it. */
@Entity('credentials')
export class Credential {
  @PrimaryColumn('uuid')
  userId!: string;

  @Column({ type: 'text' })
  passwordHash!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  passwordChangedAt!: Date;

  /** Consecutive failures since the last success or lock. */
  @Column({ type: 'integer', default: 0 })
  failedAttempts!: number;

  /** How many times the account locked in a row: the lock doubles each time, up to the maximum. */
  @Column({ type: 'integer', default: 0 })
  lockLevel!: number;

  @Column({ type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'credentials_user_id_fkey' })
  user?: User;
}
