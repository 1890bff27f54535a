import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../../users/users/user.entity';

/**
 * A signed-in device. The refresh token is never stored: only the SHA-256 of the current one and
 * its generation, which rotates on every refresh.
 */
@Entity('sessions')
@Index('sessions_user_active_idx', { synchronize: false }) // partial: WHERE revoked_at IS NULL, declared in the migration
export class Session {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'integer', default: 0 })
  refreshGeneration!: number;

  @Column({ type: 'char', length: 64 })
  refreshHash!: string;

  /** When the current generation was issued: also the `iat` of the access token issued with it. */
  @Column({ type: 'timestamptz' })
  rotatedAt!: Date;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ type: 'text', nullable: true })
  userAgent!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  lastSeenAt!: Date;

  @Column({ type: 'timestamptz' })
  idleExpiresAt!: Date;

  @Column({ type: 'timestamptz' })
  absoluteExpiresAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  revokedReason!: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'sessions_user_id_fkey' })
  user?: User;
}
