import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

export const ASSET_CLASSES = [
  'unclassified',
  'equity',
  'etf',
  'fund',
  'bond',
  'fx',
  'crypto',
  'commodity',
  'derivative',
  'cash',
] as const;
export type AssetClass = (typeof ASSET_CLASSES)[number];

/**
 * Something that trades and has a price. Created on first sight of its symbol (in a trade or a
 * price), as `unclassified`; a trade gives it its portfolio's base currency.
 */
@Entity('instruments')
@Unique('instruments_symbol_key', ['symbol'])
@Check('instruments_asset_class_check', `asset_class IN (${ASSET_CLASSES.map((c) => `'${c}'`).join(', ')})`)
@Check('instruments_currency_check', `currency ~ '^[A-Z]{3}$'`)
export class Instrument {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  symbol!: string;

  @Column({ type: 'text', default: 'unclassified' })
  assetClass!: AssetClass;

  /** ISO 4217; null until known. */
  @Column({ type: 'char', length: 3, nullable: true })
  currency!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
