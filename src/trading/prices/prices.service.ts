import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException, type FieldError } from '../../common/errors/app.exception';
import { AuditService } from '../../security/audit/audit.service';
import type { Principal } from '../../security/auth/principal';
import { TradingEventsPublisher } from '../trading-events.publisher';
import { TradingEvents } from '../trading.events';
import { Dec } from '../valuation/decimal';
import { type PriceItem, readPriceBulk } from '../dto/bulk-input.validator';
import type { PriceDto } from './dto/price.dto';

/** Rows per INSERT statement. */
export const PRICE_CHUNK = 1000;

interface NormalisedPrice {
  symbol: string;
  price: string;
  asOf: Date;
}

/**
 * Market prices. A price is stored per (symbol, asOf); sending the same symbol and asOf again
 * replaces the stored price (a correction), so resending a batch is harmless. Valuations use, per
 * symbol, the price with the latest asOf (at or before the asked moment).
 */
@Injectable()
export class PricesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: TradingEventsPublisher,
    private readonly audit: AuditService,
  ) {}

  /** One validated price (PriceInputDto); answers its symbol's latest price afterwards. */
  async recordOne(principal: Principal, input: PriceItem): Promise<PriceDto[]> {
    return this.record(principal, normalise([input], 'single'), 'single');
  }

  /**
   * `{prices: [...]}`, up to 10,000, all or nothing, checked here (readPriceBulk: the
   * PriceInputDto rules); answers, per symbol sent, its latest price afterwards.
   */
  async recordBulk(principal: Principal, body: unknown): Promise<{ received: number; latest: PriceDto[] }> {
    const items = readPriceBulk(body);
    return { received: items.length, latest: await this.record(principal, normalise(items, 'bulk'), 'bulk') };
  }

  /** Stores the prices as published by the caller (`created_by`), audited once per request in the same transaction. */
  private async record(principal: Principal, prices: NormalisedPrice[], shape: 'single' | 'bulk'): Promise<PriceDto[]> {
    const symbols = [...new Set(prices.map((p) => p.symbol))].sort();
    const { latest, revalued } = await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO instruments (symbol)
         SELECT s FROM unnest($1::text[]) AS s ORDER BY s
         ON CONFLICT (symbol) DO NOTHING`,
        [symbols],
      );
      for (let i = 0; i < prices.length; i += PRICE_CHUNK) {
        await this.upsert(manager, prices.slice(i, i + PRICE_CHUNK), principal.userId);
      }
      const latest = await this.latest(manager, symbols);
      // A symbol revalues portfolios when one of the prices just sent is now its latest.
      const sentLatest = new Map<string, number>();
      for (const p of prices) sentLatest.set(p.symbol, Math.max(sentLatest.get(p.symbol) ?? 0, p.asOf.getTime()));
      const moved = latest.filter((l) => sentLatest.get(l.symbol) === new Date(l.asOf).getTime()).map((l) => l.symbol);
      const revalued =
        moved.length === 0
          ? []
          : await manager.query<{ portfolio_id: string; owner_id: string; symbols: string[] }[]>(
              `SELECT pos.portfolio_id, p.owner_id, array_agg(pos.symbol ORDER BY pos.symbol) AS symbols
                 FROM positions pos JOIN portfolios p ON p.id = pos.portfolio_id
                WHERE pos.symbol = ANY($1::text[]) AND pos.quantity <> 0
                GROUP BY pos.portfolio_id, p.owner_id`,
              [moved],
            );
      await this.audit.record(manager, {
        action: 'prices.published',
        targetType: 'prices',
        details: {
          shape,
          count: prices.length,
          symbols: symbols.slice(0, 100),
          ...(symbols.length > 100 ? { symbolCount: symbols.length } : {}),
          latestChanged: moved.length,
        },
      });
      return { latest, revalued };
    });

    const at = new Date().toISOString();
    this.events.emit(TradingEvents.PriceUpdated, { count: prices.length, latest, at });
    for (const r of revalued) {
      this.events.emit(TradingEvents.PortfolioRevalued, {
        portfolioId: r.portfolio_id,
        ownerId: r.owner_id,
        reason: 'prices',
        symbols: r.symbols,
        at,
      });
    }
    return latest;
  }

  private async upsert(manager: EntityManager, chunk: NormalisedPrice[], userId: string): Promise<void> {
    await manager.query(
      `INSERT INTO prices (symbol, as_of, price, received_at, created_by)
       SELECT u.symbol, u.as_of, u.price, now(), $4
         FROM unnest($1::text[], $2::timestamptz[], $3::numeric[]) AS u(symbol, as_of, price)
       ON CONFLICT (symbol, as_of) DO UPDATE
         SET price = EXCLUDED.price, received_at = EXCLUDED.received_at, created_by = EXCLUDED.created_by`,
      [chunk.map((p) => p.symbol), chunk.map((p) => p.asOf.toISOString()), chunk.map((p) => p.price), userId],
    );
  }

  private async latest(manager: EntityManager, symbols: string[]): Promise<PriceDto[]> {
    const rows = await manager.query<{ symbol: string; price: string; as_of: Date; created_by: string | null }[]>(
      `SELECT s.symbol, p.price, p.as_of, p.created_by
         FROM unnest($1::text[]) AS s(symbol)
         JOIN LATERAL (
           SELECT price, as_of, created_by FROM prices WHERE prices.symbol = s.symbol ORDER BY as_of DESC LIMIT 1
         ) p ON true
        ORDER BY s.symbol`,
      [symbols],
    );
    return rows.map((r) => ({
      symbol: r.symbol,
      price: new Dec(r.price).toFixed(),
      asOf: r.as_of.toISOString(),
      createdBy: r.created_by,
    }));
  }
}

/** One price per (symbol, asOf) in a request: a second is a 400 naming it. */
function normalise(inputs: PriceItem[], shape: 'single' | 'bulk'): NormalisedPrice[] {
  const seen = new Map<string, number>();
  const errors: FieldError[] = [];
  const prices = inputs.map((input, index) => {
    const asOf = new Date(input.asOf);
    const key = `${input.symbol}@${asOf.getTime()}`;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push({
        field: shape === 'bulk' ? `prices.${index}.asOf` : 'asOf',
        message: `prices.${first} already gives ${input.symbol} at ${asOf.toISOString()}`,
      });
    } else {
      seen.set(key, index);
    }
    return { symbol: input.symbol, price: input.price, asOf };
  });
  if (errors.length > 0) throw AppException.validation(errors);
  return prices;
}
