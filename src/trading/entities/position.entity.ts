import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Instrument } from './instrument.entity';
import { Portfolio } from './portfolio.entity';

/**
 * The average-cost state of one symbol in one portfolio, maintained in the transaction that
 * records its trades, so reading positions never replays history. Unscaled `numeric`: the
 * calculator's exact values round-trip unchanged.
 */
@Entity('positions')
@Index('positions_open_symbol_idx', { synchronize: false }) // (symbol) WHERE quantity <> 0: declared in the migration
export class Position {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'positions_pkey' })
  portfolioId!: string;

  @PrimaryColumn({ type: 'varchar', length: 32, primaryKeyConstraintName: 'positions_pkey' })
  symbol!: string;

  /** Signed: negative for a short. */
  @Column({ type: 'numeric' })
  quantity!: string;

  /** Signed like quantity; fees of opening trades included. */
  @Column({ type: 'numeric' })
  costBasis!: string;

  @Column({ type: 'numeric' })
  realisedPnl!: string;

  @Column({ type: 'numeric' })
  fees!: string;

  @Column({ type: 'integer' })
  tradeCount!: number;

  @Column({ type: 'timestamptz' })
  lastExecutedAt!: Date;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @ManyToOne(() => Portfolio, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'portfolio_id', foreignKeyConstraintName: 'positions_portfolio_id_fkey' })
  portfolio?: Portfolio;

  @ManyToOne(() => Instrument)
  @JoinColumn({ name: 'symbol', referencedColumnName: 'symbol', foreignKeyConstraintName: 'positions_symbol_fkey' })
  instrument?: Instrument;
}
