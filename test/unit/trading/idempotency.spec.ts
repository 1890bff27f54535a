import { AppException } from '../../../src/common/errors/app.exception';
import { parseIdempotencyKey, requestHash } from '../../../src/trading/idempotency/idempotency';

describe('Idempotency-Key helpers', () => {
  it('hashes the request body independently of key order and formatting, but not of values', () => {
    const a = requestHash({ trades: [{ symbol: 'ACME', price: '1.5', quantity: '2' }] });
    const b = requestHash(JSON.parse('{ "trades": [ { "quantity": "2", "price": "1.5", "symbol": "ACME" } ] }'));
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(requestHash({ trades: [{ symbol: 'ACME', price: '1.50', quantity: '2' }] })).not.toBe(a);
    // Order of trades matters: it decides execution order of same-time trades.
    expect(requestHash({ trades: [1, 2] })).not.toBe(requestHash({ trades: [2, 1] }));
  });

  it('accepts absent and well-formed keys and refuses the rest as 400 naming the header', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('5f0c7c0e-8d4e-4b1a-9a57-0d3f5f1d2a7b')).toBe('5f0c7c0e-8d4e-4b1a-9a57-0d3f5f1d2a7b');
    for (const bad of ['', ' padded', 'x'.repeat(256), 'tab\there', 'é', ['a', 'b']]) {
      let error: unknown;
      try {
        parseIdempotencyKey(bad);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AppException);
      expect((error as AppException).options.errors?.[0].field).toBe('Idempotency-Key');
    }
  });
});
