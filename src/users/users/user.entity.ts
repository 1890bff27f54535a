import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A failed-login lock is not a status: it lives on the credential (`credentials.locked_until`). */
export const USER_STATUSES = ['active', 'inactive', 'suspended', 'pending'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** A person who can sign in. Emails are stored lower-cased: they compare case-insensitively. */
@Entity('users')
@Check('users_email_lowercase', 'email = lower(email)')
@Check('users_status_check', `status IN ('active', 'inactive', 'suspended', 'pending')`)
@Index('users_email_key', ['email'], { unique: true })
@Index('users_created_idx', ['createdAt', 'id'])
@Index('users_roles_idx', { synchronize: false }) // GIN on roles: declared in the migration
export class User {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  /** Confusable skeleton of the email (users/email.ts): look-alike addresses share it. */
  @Index('users_email_skeleton_idx')
  @Column({ type: 'varchar', length: 254, nullable: true, select: false })
  emailSkeleton?: string | null;

  @Column({ type: 'varchar', length: 100, default: '' })
  firstName!: string;

  @Column({ type: 'varchar', length: 100, default: '' })
  lastName!: string;

  @Column({ type: 'text', default: 'active' })
  status!: UserStatus;

  @Column({ type: 'text', nullable: true })
  statusReason!: string | null;

  /** Role names; the security module owns their meaning. */
  @Column({ type: 'text', array: true, default: () => "'{viewer}'" })
  roles!: string[];

  @Column({ type: 'timestamptz', nullable: true })
  lastLoginAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
