import type { ArgumentMetadata } from '@nestjs/common';
import { AppException, type FieldError } from '../../../src/common/errors/app.exception';
import { createValidationPipe } from '../../../src/common/validation/validation.pipe';
import {
  readPriceBulk,
  readTradeBulk,
  readTradeBulkInSlices,
  validatePriceItems,
  validateTradeItems,
} from '../../../src/trading/dto/bulk-input.validator';
import { PriceInputDto } from '../../../src/trading/prices/dto/price.dto';
import { TradeInputDto } from '../../../src/trading/trades/dto/trade.dto';

/**
 * Bulk items skip class-validator for speed; these cases prove the fast validators say exactly
 * what the DTOs say through the global ValidationPipe, item by item.
 */
const pipe = createValidationPipe();

async function viaPipe(metatype: new () => object, value: unknown): Promise<{ value?: object; errors: FieldError[] }> {
  try {
    const out = (await pipe.transform(value, { type: 'body', metatype } as ArgumentMetadata)) as object;
    return { value: { ...out }, errors: [] };
  } catch (err) {
    if (err instanceof AppException) return { errors: err.options.errors ?? [] };
    throw err;
  }
}

const sorted = (errors: FieldError[]): string[] => errors.map((e) => `${e.field}: ${e.message}`).sort();

const trade = {
  symbol: 'ACME',
  side: 'buy',
  quantity: '10',
  price: '187.25',
  fees: '1.5',
  executedAt: '2026-03-02T14:30:00.125Z',
  externalId: 'FIX-1',
};

const TRADE_CASES: [string, unknown][] = [
  ['valid, every field', trade],
  [
    'valid, no optional fields',
    { symbol: 'BRK.B', side: 'sell', quantity: '0.5', price: '0', executedAt: '2026-03-02T14:30+01:00' },
  ],
  ['symbol trimmed and upper-cased', { ...trade, symbol: ' eur/usd ' }],
  ['null optionals are absent', { ...trade, fees: null, externalId: null }],
  ['numbers instead of strings', { ...trade, quantity: 10, price: 1.5, fees: 0 }],
  ['negative, exponent, zero', { ...trade, quantity: '0.000', price: '-1', fees: '1e3' }],
  ['too many digits', { ...trade, quantity: '1.123456789', price: '1234567890123' }],
  ['bad side and symbol', { ...trade, side: 'hold', symbol: '-ACME' }],
  ['symbol not a string', { ...trade, symbol: 42 }],
  ['symbol too long', { ...trade, symbol: 'A'.repeat(33) }],
  ['missing everything', {}],
  ['unknown members', { ...trade, venue: 'XLON', account: 1 }],
  ['date without a zone', { ...trade, executedAt: '2026-03-02T14:30:00' }],
  ['date only', { ...trade, executedAt: '2026-03-02' }],
  ['impossible date', { ...trade, executedAt: '2026-02-30T10:00:00Z' }],
  ['microseconds', { ...trade, executedAt: '2026-03-02T14:30:00.123456Z' }],
  ['externalId with a space, too long, or not a string', { ...trade, externalId: 'a b' }],
  ['externalId too long', { ...trade, externalId: 'x'.repeat(129) }],
  ['externalId a number', { ...trade, externalId: 7 }],
  ['arrays and objects as values', { ...trade, quantity: ['1'], price: { v: '1' } }],
];

const price = { symbol: 'ACME', price: '189.1', asOf: '2026-03-02T14:31:00Z' };
const PRICE_CASES: [string, unknown][] = [
  ['valid', price],
  ['lower-case symbol', { ...price, symbol: 'acme' }],
  ['bad price and date', { ...price, price: '-1', asOf: 'yesterday' }],
  ['number price', { ...price, price: 189.1 }],
  ['unknown member and missing asOf', { symbol: 'ACME', price: '1', source: 'x' }],
];

describe('bulk item validators agree with the DTOs', () => {
  it.each(TRADE_CASES)('trades: %s', async (_name, item) => {
    const single = await viaPipe(TradeInputDto, structuredClone(item));
    const bulk = validateTradeItems([structuredClone(item)]);
    expect(sorted(bulk.errors.map((e) => ({ ...e, field: e.field.replace(/^trades\.0\./, '') })))).toEqual(
      sorted(single.errors),
    );
    if (single.errors.length === 0) {
      // null optionals reach the service as null from the DTO and as absent from the bulk validator:
      // both mean absent there.
      const defined = (o: object) =>
        Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
      expect(defined(bulk.items[0])).toEqual(defined(single.value!));
    }
  });

  it.each(PRICE_CASES)('prices: %s', async (_name, item) => {
    const single = await viaPipe(PriceInputDto, structuredClone(item));
    const bulk = validatePriceItems([structuredClone(item)]);
    expect(sorted(bulk.errors.map((e) => ({ ...e, field: e.field.replace(/^prices\.0\./, '') })))).toEqual(
      sorted(single.errors),
    );
    if (single.errors.length === 0) expect(bulk.items[0]).toEqual(single.value);
  });

  it('names the index of each bad item and refuses items that are not objects', () => {
    const { errors } = validateTradeItems([trade, null, { ...trade, price: 'x' }, [1], 'str']);
    expect(errors.map((e) => e.field)).toEqual(['trades.1', 'trades.2.price', 'trades.3', 'trades.4']);
  });

  it('accepts 10,000 valid items, the bulk maximum (its speed is measured in bench:trading, not timed here)', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({ ...trade, externalId: `E-${i}` }));
    const { errors, items: accepted } = validateTradeItems(items);
    expect(errors).toEqual([]);
    expect(accepted).toHaveLength(10_000);
  });

  it('reads the bulk body: one member, an array of 1 to 10,000 valid items', () => {
    const errorsOf = (read: (b: unknown) => unknown, body: unknown): FieldError[] => {
      try {
        read(body);
      } catch (err) {
        if (err instanceof AppException) return err.options.errors ?? [];
        throw err;
      }
      return [];
    };
    expect(readTradeBulk({ trades: [trade] })).toEqual([trade]);
    expect(errorsOf(readTradeBulk, [trade])).toEqual([
      { field: '', message: 'the body must be an object {"trades": [...]}' },
    ]);
    expect(errorsOf(readTradeBulk, null)).toHaveLength(1);
    expect(errorsOf(readTradeBulk, { trades: [], extra: 1 })).toEqual([
      { field: 'extra', message: 'property extra should not exist' },
      { field: 'trades', message: 'trades must contain at least 1 elements' },
    ]);
    expect(errorsOf(readTradeBulk, { trades: 'x' })).toEqual([{ field: 'trades', message: 'trades must be an array' }]);
    expect(errorsOf(readTradeBulk, { trades: Array.from({ length: 10_001 }, () => trade) })).toEqual([
      { field: 'trades', message: 'trades must contain no more than 10000 elements' },
    ]);
    expect(errorsOf(readTradeBulk, { trades: [trade, { ...trade, side: 'x' }] })).toEqual([
      { field: 'trades.1.side', message: 'side must be one of: buy, sell' },
    ]);
    expect(readPriceBulk({ prices: [price] })).toEqual([price]);
    expect(errorsOf(readPriceBulk, { price: [price] }).map((e) => e.field)).toEqual(['price', 'prices']);
  });

  it('reads a bulk in slices with the same items and the same errors, indexed across slices', async () => {
    const items = Array.from({ length: 2500 }, (_, i) => ({ ...trade, symbol: ' acme ', externalId: `X-${i}` }));
    expect(await readTradeBulkInSlices({ trades: items }, 1000)).toEqual(readTradeBulk({ trades: items }));
    const bad = items.map((t, i) => (i === 7 || i === 1999 ? { ...t, price: '-1' } : t));
    const expected = await Promise.resolve()
      .then(() => readTradeBulk({ trades: bad }))
      .catch((err: AppException) => err.options.errors);
    const got = await readTradeBulkInSlices({ trades: bad }, 1000).catch((err: AppException) => err.options.errors);
    expect(got).toEqual(expected);
    expect((got as FieldError[]).map((e) => e.field)).toEqual(['trades.7.price', 'trades.1999.price']);
    await expect(readTradeBulkInSlices({ trades: [] })).rejects.toBeInstanceOf(AppException);
  });
});
