import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException, type FieldError } from '../../common/errors/app.exception';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { AuditService } from '../../security/audit/audit.service';
import type { Principal } from '../../security/auth/principal';
import { type PriceItem, readPriceBulk } from '../dto/bulk-input.validator';
import type { IdempotentRequest } from '../idempotency/idempotency';
import { IdempotencyService } from '../idempotency/idempotency.service';
import type { IdempotentAnswer } from '../idempotency/idempotent.decorator';
import { TradingEventsPublisher } from '../trading-events.publisher';
import { TradingEvents } from '../trading.events';
import type { BulkPricesResultDto, PriceDto } from './dto/price.dto';
import { type Holder, type NewPrice, type PriceRow, PricesRepository } from './prices.repository';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Rows per INSERT statement. */
export const PRICE_CHUNK = 1000;

interface Recorded {
  latest: PriceDto[];
  holders: Holder[];
}

function toDto(p: PriceRow): PriceDto {
  return { symbol: p.symbol, price: p.price, asOf: p.asOf.toISOString(), createdBy: p.createdBy };
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
    private readonly prices: PricesRepository,
    private readonly idempotency: IdempotencyService,
    private readonly events: TradingEventsPublisher,
    private readonly audit: AuditService,
  ) {}

  /** One validated price (PriceInputDto); answers its symbol's latest price afterwards. */
  async recordOne(principal: Principal, input: PriceItem): Promise<PriceDto[]> {
    const prices = normalise([input], 'single');
    const recorded = await this.dataSource.transaction((manager) => this.record(manager, principal, prices, 'single'));
    this.publish(prices.length, recorded);
    return recorded.latest;
  }

  /**
   * `{prices: [...]}`, up to 10,000, all or nothing, checked here (readPriceBulk: the
   * PriceInputDto rules); answers, per symbol sent, its latest price afterwards. With an
   * `Idempotency-Key`, a retry gets the first answer back and stores nothing again.
   */
  async recordBulk(
    principal: Principal,
    body: unknown,
    idempotency?: IdempotentRequest,
  ): Promise<IdempotentAnswer<BulkPricesResultDto>> {
    const prices = normalise(readPriceBulk(body), 'bulk');
    let recorded: Recorded | undefined;
    const answer = await this.dataSource.transaction((manager) =>
      this.idempotency.run(manager, idempotency, async () => {
        recorded = await this.record(manager, principal, prices, 'bulk');
        return { status: 201, body: { received: prices.length, latest: recorded.latest } };
      }),
    );
    if (recorded && !answer.replayed) this.publish(prices.length, recorded);
    return answer;
  }

  /** The latest price of a symbol; 404 when it has none. */
  async latest(symbol: string): Promise<PriceDto> {
    const [latest] = await this.prices.latestOf([symbol]);
    if (!latest) throw AppException.notFound('price of this symbol');
    return toDto(latest);
  }

  /**
   * The prices of a symbol, newest first, within `from`/`to` when given, keyset-paginated on
   * asOf. A symbol never priced is a 404 (an empty range of a known one is an empty page).
   */
  async history(
    symbol: string,
    query: { from?: string; to?: string; limit?: number; cursor?: string },
  ): Promise<Page<PriceDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, 'time');
    if (!(await this.prices.instrumentExists(symbol))) throw AppException.notFound('instrument');
    const rows = await this.prices.history(symbol, {
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      before: after ? new Date(after.k) : undefined,
      limit: limit + 1,
    });
    // asOf is unique within a symbol, so it is the whole key; the id half of the position is constant.
    return toPage(rows, limit, (p) => ({ k: p.asOf.toISOString(), id: NIL_UUID }), toDto);
  }

  /** Stores the prices as published by the caller (`created_by`), audited once per request in the same transaction. */
  private async record(
    manager: EntityManager,
    principal: Principal,
    prices: NewPrice[],
    shape: 'single' | 'bulk',
  ): Promise<Recorded> {
    const symbols = [...new Set(prices.map((p) => p.symbol))].sort();
    await this.prices.ensureInstruments(manager, symbols);
    for (let i = 0; i < prices.length; i += PRICE_CHUNK) {
      await this.prices.upsertChunk(manager, prices.slice(i, i + PRICE_CHUNK), principal.userId);
    }
    const latest = await this.prices.latestOf(symbols, manager);
    // A symbol revalues portfolios when one of the prices just sent is now its latest.
    const sentLatest = new Map<string, number>();
    for (const p of prices) sentLatest.set(p.symbol, Math.max(sentLatest.get(p.symbol) ?? 0, p.asOf.getTime()));
    const moved = latest.filter((l) => sentLatest.get(l.symbol) === l.asOf.getTime()).map((l) => l.symbol);
    const holders = moved.length === 0 ? [] : await this.prices.holdersOf(manager, moved);
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
    return { latest: latest.map(toDto), holders };
  }

  /** After commit: the new latest prices, and a revaluation per holding portfolio. */
  private publish(count: number, { latest, holders }: Recorded): void {
    const at = new Date().toISOString();
    this.events.emit(TradingEvents.PriceUpdated, { count, latest, at });
    for (const h of holders) {
      this.events.emit(TradingEvents.PortfolioRevalued, {
        portfolioId: h.portfolioId,
        ownerId: h.ownerId,
        reason: 'prices',
        symbols: h.symbols,
        at,
      });
    }
  }
}

/** One price per (symbol, asOf) in a request: a second is a 400 naming it. */
function normalise(inputs: PriceItem[], shape: 'single' | 'bulk'): NewPrice[] {
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
