import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { User } from '../../users/users/user.entity';

/** A book of trades owned by one user, visible to the groups it is shared with. */
@Entity('portfolios')
@Check('portfolios_base_currency_check', `base_currency ~ '^[A-Z]{3}$'`)
@Index('portfolios_owner_idx', ['ownerId'])
@Index('portfolios_name_idx', { synchronize: false }) // (lower(name), id): declared in the migration
export class Portfolio {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  ownerId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 500, default: '' })
  description!: string;

  /** ISO 4217, e.g. USD. Trades are taken to be priced in it (no FX conversion). */
  @Column({ type: 'char', length: 3 })
  baseCurrency!: string;

  /** Whether sells beyond the held quantity open short positions (otherwise they are refused). */
  @Column({ type: 'boolean', default: false })
  allowShort!: boolean;

  /** The last `seq` given to a trade of this portfolio; bigint, so a string. */
  @Column({ type: 'bigint', default: 0 })
  tradeSeq!: string;

  /** Set when archived (a soft delete): no new trades, left out of lists unless asked for. */
  @Column({ type: 'timestamptz', nullable: true })
  archivedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;

  @ManyToOne(() => User, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'portfolios_owner_id_fkey' })
  owner?: User;
}
