import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { Dec } from '../valuation/decimal';

/** A stored price as the services use it. */
export interface PriceRow {
  symbol: string;
  /** Decimal string, trailing zeros removed. */
  price: string;
  asOf: Date;
  createdBy: string | null;
}

interface RawPrice {
  symbol: string;
  price: string;
  as_of: Date;
  created_by: string | null;
}

function mapPrice(r: RawPrice): PriceRow {
  return { symbol: r.symbol, price: new Dec(r.price).toFixed(), asOf: r.as_of, createdBy: r.created_by };
}

/** A price to store. */
export interface NewPrice {
  symbol: string;
  price: string;
  asOf: Date;
}

/** Portfolios holding a symbol whose latest price moved, for the revaluation events. */
export interface Holder {
  portfolioId: string;
  ownerId: string;
  symbols: string[];
}

/**
 * Every statement over `prices` and `instruments`. Raw SQL where it pays: `unnest` bulk
 * upserts and the per-symbol `LATERAL` latest-price lookup.
 */
@Injectable()
export class PricesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** Creates the instruments not known yet (sorted, so concurrent requests lock in one order). */
  async ensureInstruments(manager: EntityManager, symbols: string[]): Promise<void> {
    await manager.query(
      `INSERT INTO instruments (symbol)
       SELECT s FROM unnest($1::text[]) AS s ORDER BY s
       ON CONFLICT (symbol) DO NOTHING`,
      [symbols],
    );
  }

  /** Inserts a chunk; a price for a stored (symbol, asOf) replaces it (a correction). */
  async upsertChunk(manager: EntityManager, chunk: NewPrice[], userId: string): Promise<void> {
    await manager.query(
      `INSERT INTO prices (symbol, as_of, price, received_at, created_by)
       SELECT u.symbol, u.as_of, u.price, now(), $4
         FROM unnest($1::text[], $2::timestamptz[], $3::numeric[]) AS u(symbol, as_of, price)
       ON CONFLICT (symbol, as_of) DO UPDATE
         SET price = EXCLUDED.price, received_at = EXCLUDED.received_at, created_by = EXCLUDED.created_by`,
      [chunk.map((p) => p.symbol), chunk.map((p) => p.asOf.toISOString()), chunk.map((p) => p.price), userId],
    );
  }

  /** Per symbol, the price with the latest asOf (symbols without a price are left out), by symbol. */
  async latestOf(symbols: string[], manager?: EntityManager): Promise<PriceRow[]> {
    const rows = await this.m(manager).query<RawPrice[]>(
      `SELECT s.symbol, p.price, p.as_of, p.created_by
         FROM unnest($1::text[]) AS s(symbol)
         JOIN LATERAL (
           SELECT price, as_of, created_by FROM prices WHERE prices.symbol = s.symbol ORDER BY as_of DESC LIMIT 1
         ) p ON true
        ORDER BY s.symbol`,
      [symbols],
    );
    return rows.map(mapPrice);
  }

  /** Portfolios with a non-zero position in one of the symbols, with those symbols. */
  async holdersOf(manager: EntityManager, symbols: string[]): Promise<Holder[]> {
    const rows = await manager.query<{ portfolio_id: string; owner_id: string; symbols: string[] }[]>(
      `SELECT pos.portfolio_id, p.owner_id, array_agg(pos.symbol ORDER BY pos.symbol) AS symbols
         FROM positions pos JOIN portfolios p ON p.id = pos.portfolio_id
        WHERE pos.symbol = ANY($1::text[]) AND pos.quantity <> 0
        GROUP BY pos.portfolio_id, p.owner_id`,
      [symbols],
    );
    return rows.map((r) => ({ portfolioId: r.portfolio_id, ownerId: r.owner_id, symbols: r.symbols }));
  }

  /**
   * Prices of one symbol, newest asOf first, `limit` rows from after `before` (exclusive; the
   * keyset position of the previous page), within [from, to] when given.
   */
  async history(symbol: string, filter: { from?: Date; to?: Date; before?: Date; limit: number }): Promise<PriceRow[]> {
    const params: unknown[] = [symbol, filter.limit];
    const where = ['symbol = $1'];
    const bind = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.from) bind('as_of >= ?', filter.from.toISOString());
    if (filter.to) bind('as_of <= ?', filter.to.toISOString());
    if (filter.before) bind('as_of < ?', filter.before.toISOString());
    const rows = await this.dataSource.query<RawPrice[]>(
      `SELECT symbol, price, as_of, created_by FROM prices
        WHERE ${where.join(' AND ')}
        ORDER BY as_of DESC
        LIMIT $2`,
      params,
    );
    return rows.map(mapPrice);
  }

  /** Whether the instrument is known (has ever been priced or traded). */
  async instrumentExists(symbol: string): Promise<boolean> {
    const [row] = await this.dataSource.query<{ ok: boolean }[]>(
      'SELECT EXISTS (SELECT 1 FROM instruments WHERE symbol = $1) AS ok',
      [symbol],
    );
    return row?.ok === true;
  }
}
