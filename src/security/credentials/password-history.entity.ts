import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../../users/users/user.entity';

/** Hashes of earlier passwords, so a change can refuse the last few. */
@Entity('password_history')
@Index('password_history_user_idx', { synchronize: false }) // (user_id, created_at DESC): declared in the migration
export class PasswordHistory {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  userId!: string;

  @Column({ type: 'text' })
  passwordHash!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'password_history_user_id_fkey' })
  user?: User;
}
