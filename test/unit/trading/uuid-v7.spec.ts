import { uuidv7 } from '../../../src/trading/uuid-v7';

describe('uuidv7', () => {
  it('is a version 7, RFC 9562 variant UUID carrying the time', () => {
    const id = uuidv7(Date.UTC(2026, 2, 2, 9, 30));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 2, 2, 9, 30));
  });

  it('increases strictly, also within one millisecond and past the counter', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7(Date.UTC(2030, 0, 1)));
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
