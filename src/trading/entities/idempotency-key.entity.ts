import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { User } from '../../users/users/user.entity';

/**
 * The first answer to a request sent with an `Idempotency-Key`, per user: a retry with the same key
 * and the same request gets it back instead of running again. Written in the transaction of the
 * work it answers, so it exists exactly when that work was committed.
 */
@Entity('idempotency_keys')
@Index('idempotency_keys_created_idx', ['createdAt'])
export class IdempotencyKey {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'idempotency_keys_pkey' })
  userId!: string;

  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'idempotency_keys_pkey' })
  key!: string;

  @Column({ type: 'varchar', length: 10 })
  requestMethod!: string;

  @Column({ type: 'text' })
  requestPath!: string;

  /** SHA-256 (hex) of the canonical JSON of the request body. */
  @Column({ type: 'char', length: 64 })
  requestHash!: string;

  @Column({ type: 'integer', nullable: true })
  statusCode!: number | null;

  @Column({ type: 'json', nullable: true })
  responseBody!: unknown;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'idempotency_keys_user_id_fkey' })
  user?: User;
}
