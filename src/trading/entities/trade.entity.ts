import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { Instrument } from './instrument.entity';
import { Portfolio } from './portfolio.entity';

export const TRADE_SIDES = ['buy', 'sell'] as const;
export type TradeSide = (typeof TRADE_SIDES)[number];

/** One execution. Immutable once recorded; amounts are numeric(20,8), decimal strings in TypeScript. */
@Entity('trades')
@Check('trades_side_check', `side IN ('buy', 'sell')`)
@Check('trades_quantity_check', 'quantity > 0')
@Check('trades_price_check', 'price >= 0')
@Check('trades_fees_check', 'fees >= 0')
@Unique('trades_portfolio_external_id_key', ['portfolioId', 'externalId'])
@Index('trades_portfolio_symbol_idx', ['portfolioId', 'symbol', 'executedAt', 'seq'])
@Index('trades_portfolio_executed_idx', ['portfolioId', 'executedAt', 'seq'])
export class Trade {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  portfolioId!: string;

  /** Recording order within the portfolio: breaks ties between trades executed at the same time. */
  @Column({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'varchar', length: 32 })
  symbol!: string;

  @Column({ type: 'text' })
  side!: TradeSide;

  @Column({ type: 'numeric', precision: 20, scale: 8 })
  quantity!: string;

  @Column({ type: 'numeric', precision: 20, scale: 8 })
  price!: string;

  @Column({ type: 'numeric', precision: 20, scale: 8, default: 0 })
  fees!: string;

  @Column({ type: 'timestamptz' })
  executedAt!: Date;

  /** The sender's id for the trade: unique per portfolio, so a resent trade is never stored twice. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  externalId!: string | null;

  /** The user who recorded it (no foreign key: bulk inserts stay cheap, and trades outlive users). */
  @Column({ type: 'uuid', nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @ManyToOne(() => Portfolio, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'portfolio_id', foreignKeyConstraintName: 'trades_portfolio_id_fkey' })
  portfolio?: Portfolio;

  @ManyToOne(() => Instrument)
  @JoinColumn({ name: 'symbol', referencedColumnName: 'symbol', foreignKeyConstraintName: 'trades_symbol_fkey' })
  instrument?: Instrument;
}
