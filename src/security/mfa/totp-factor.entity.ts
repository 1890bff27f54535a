import { Column, CreateDateColumn, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { User } from '../../users/users/user.entity';

const bigintAsNumber = {
  to: (value: number | null): number | null => value,
  from: (value: string | null): number | null => (value === null ? null : Number(value)),
};

/**
 * A user's TOTP authenticator: pending from enrolment until a first valid code activates it.
 * The secret is encrypted (AES-256-GCM envelope bound to the user id, see EncryptionService).
 */
@Entity('mfa_totp')
export class TotpFactor {
  @PrimaryColumn('uuid')
  userId!: string;

  /** `v<key version>:<iv>:<tag>:<ciphertext>` of the base32 secret. */
  @Column({ type: 'text' })
  secretEnc!: string;

  /** When this secret was issued (enrolment started). */
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  /** Null while pending. */
  @Column({ type: 'timestamptz', nullable: true })
  activatedAt!: Date | null;

  /** The last time step a code was accepted for: no code of that step or earlier works again. */
  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastUsedStep!: number | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;

  @OneToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'mfa_totp_user_id_fkey' })
  user?: User;
}
