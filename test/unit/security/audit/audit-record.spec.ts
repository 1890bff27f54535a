import { randomUUID } from 'node:crypto';
import { REDACTED, canonicalJson } from '../../../../src/security/audit/audit-chain';
import { SYSTEM_ACTOR, auditDetails, toUnsealedEntry } from '../../../../src/security/audit/audit-record';

const slot = () => ({ id: randomUUID(), seq: '7', occurredAt: new Date('2026-11-28T12:00:00.123Z') });

describe('toUnsealedEntry', () => {
  it('fills the defaults: success, the system actor, no ip or request id outside a request', () => {
    const at = slot();
    expect(toUnsealedEntry({ action: 'report.scheduled' }, undefined, at)).toEqual({
      id: at.id,
      seq: '7',
      occurredAt: '2026-11-28T12:00:00.123Z',
      actorType: 'system',
      actorId: 'bastion',
      action: 'report.scheduled',
      targetType: null,
      targetId: null,
      outcome: 'success',
      ip: null,
      requestId: null,
      details: {},
    });
    expect(SYSTEM_ACTOR).toEqual({ type: 'system', id: 'bastion' });
  });

  it("takes the actor, ip and request id from the request's context", () => {
    const entry = toUnsealedEntry(
      { action: 'auth.login', targetType: 'user', targetId: 'u-1', outcome: 'failure' },
      { requestId: 'r-1', ip: '203.0.113.7', actor: { type: 'user', id: 'u-1' } },
      slot(),
    );
    expect(entry).toMatchObject({
      actorType: 'user',
      actorId: 'u-1',
      ip: '203.0.113.7',
      requestId: 'r-1',
      targetType: 'user',
      targetId: 'u-1',
      outcome: 'failure',
    });
  });

  it('lets the record override the actor and ip, but never the request id', () => {
    const entry = toUnsealedEntry(
      { action: 'job.ran', actor: { type: 'api_key', id: 'k-1' }, ip: '192.0.2.1' },
      { requestId: 'r-2', ip: '203.0.113.7', actor: { type: 'user', id: 'u-1' } },
      slot(),
    );
    expect(entry).toMatchObject({ actorType: 'api_key', actorId: 'k-1', ip: '192.0.2.1', requestId: 'r-2' });
  });

  it('drops sub-millisecond precision from the time', () => {
    const at = { ...slot(), occurredAt: new Date(1_795_870_000_123.9) };
    expect(toUnsealedEntry({ action: 'x' }, undefined, at).occurredAt).toBe(new Date(1_795_870_000_123).toISOString());
  });

  it('replaces NUL, which PostgreSQL text cannot hold, in every text field', () => {
    const entry = toUnsealedEntry({ action: 'a\u0000b', targetId: '\u0000' }, undefined, slot());
    expect(entry.action).toBe('a\uFFFDb');
    expect(entry.targetId).toBe('\uFFFD');
  });
});

describe('auditDetails', () => {
  it('redacts secrets at any depth', () => {
    expect(
      auditDetails({ email: 'a@example.com', password: 'p', nested: [{ apiKey: 'k', keep: 1 }], authorization: 'x' }),
    ).toEqual({
      email: 'a@example.com',
      password: REDACTED,
      nested: [{ apiKey: REDACTED, keep: 1 }],
      authorization: REDACTED,
    });
  });

  it('reduces values to what jsonb stores and gives back unchanged', () => {
    const details = auditDetails({
      big: 2n ** 70n,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      gone: undefined,
      fn: () => 1,
      list: [undefined, 1, Number.NaN],
      when: new Date('2026-01-02T03:04:05.006Z'),
      'k\u0000ey': 'v\u0000',
    });
    expect(details).toEqual({
      big: '1180591620717411303424',
      nan: null,
      inf: null,
      list: [null, 1, null],
      when: '2026-01-02T03:04:05.006Z',
      'k\uFFFDey': 'v\uFFFD',
    });
    // Hashable, and stable across a JSON round trip (what jsonb does, up to key order).
    expect(canonicalJson(JSON.parse(JSON.stringify(details)))).toBe(canonicalJson(details));
  });

  it('does not modify its input, and keeps __proto__ as plain data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "password": "p"}') as Record<string, unknown>;
    const details = auditDetails(input);
    expect(input.password).toBe('p');
    expect(Object.getPrototypeOf(details)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(details)).toEqual(['__proto__', 'password']);
  });
});
