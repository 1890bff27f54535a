import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Instrument } from './instrument.entity';

/** The price of an instrument at a moment; one per (symbol, asOf): a resent price replaces it. */
@Entity('prices')
@Check('prices_price_check', 'price >= 0')
export class Price {
  @PrimaryColumn({ type: 'varchar', length: 32, primaryKeyConstraintName: 'prices_pkey' })
  symbol!: string;

  @PrimaryColumn({ type: 'timestamptz', primaryKeyConstraintName: 'prices_pkey' })
  asOf!: Date;

  @Column({ type: 'numeric', precision: 20, scale: 8 })
  price!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;

  /** The user who published this price (last write wins on a correction); no foreign key, like trades. */
  @Column({ type: 'uuid', nullable: true })
  createdBy!: string | null;

  @ManyToOne(() => Instrument)
  @JoinColumn({ name: 'symbol', referencedColumnName: 'symbol', foreignKeyConstraintName: 'prices_symbol_fkey' })
  instrument?: Instrument;
}
