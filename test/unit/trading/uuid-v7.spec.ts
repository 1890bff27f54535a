import { uuidv7 } from '../../../src/trading/uuid-v7';

describe('uuidv7', () => {
  it('is a version 7, RFC 9562 variant UUID carrying the time', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('increases strictly, also within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // 10 000 ids take a few milliseconds: many shared one, so the counter was exercised.
    expect(new Set(ids.map((id) => id.slice(0, 13))).size).toBeLessThan(ids.length);
  });
});
