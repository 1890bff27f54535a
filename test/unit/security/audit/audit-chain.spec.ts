import { createHash, randomUUID } from 'node:crypto';
import {
  ChainVerifier,
  GENESIS_HASH,
  REDACTED,
  canonicalJson,
  computeEntryHash,
  redactSecrets,
  sealAuditEntry,
  verifyChain,
  verifyChainAsync,
  type AuditEntry,
  type UnsealedAuditEntry,
} from '../../../../src/security/audit/audit-chain';

function unsealed(seq: number, details: Record<string, unknown> = {}): UnsealedAuditEntry {
  return {
    id: randomUUID(),
    seq: String(seq),
    occurredAt: new Date(Date.UTC(2026, 10, 1, 12, 0, seq)).toISOString(),
    actorType: 'user',
    actorId: randomUUID(),
    action: 'user.roles.changed',
    targetType: 'user',
    targetId: randomUUID(),
    outcome: 'success',
    ip: '203.0.113.7',
    requestId: randomUUID(),
    details: { step: seq, ...details },
  };
}

/** Builds a chain the way the audit service will: each entry sealed onto the previous hash. */
function buildChain(length: number): AuditEntry[] {
  const chain: AuditEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const entry = sealAuditEntry(unsealed(seq, { before: ['viewer'], after: ['viewer', 'trader'] }), prevHash);
    chain.push(entry);
    prevHash = entry.hash;
  }
  return chain;
}

/** A database round trip: JSON text, which reorders nothing but drops `undefined` members. */
function roundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('canonicalJson', () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: 2, c: { y: true, x: null } })).toBe(
      canonicalJson({ c: { x: null, y: true }, a: 2, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('sorts nested object keys and keeps array order, with no whitespace', () => {
    expect(canonicalJson({ z: [3, 1, { b: 'x', a: [] }], a: { d: {}, c: 'y' } })).toBe(
      '{"a":{"c":"y","d":{}},"z":[3,1,{"a":[],"b":"x"}]}',
    );
  });

  it('sorts keys by UTF-16 code units, not by locale', () => {
    // 'Z' (0x5a) < 'a' (0x61) < 'é' (0xe9) < '\u{1F600}' (surrogate 0xd83d) < '\uff21' (0xff21)
    expect(canonicalJson({ '\uff21': 1, '\u{1F600}': 2, é: 3, a: 4, Z: 5 })).toBe(
      '{"Z":5,"a":4,"é":3,"\u{1F600}":2,"\uff21":1}',
    );
  });

  it('writes unicode, escapes and numbers as JSON.stringify does', () => {
    const value = { s: 'ünïcødé – 日本 😀 "q" \\ \n \u0001', n: [0, -0, 1.5, 1e21, 1e-7, -42, 0.1 + 0.2] };
    expect(canonicalJson(value)).toBe(`{"n":${JSON.stringify(value.n)},"s":${JSON.stringify(value.s)}}`);
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson('😀')).toBe('"😀"');
  });

  it('omits undefined members, writes undefined array slots as null', () => {
    expect(canonicalJson({ a: undefined, b: 1, c: { d: undefined } })).toBe('{"b":1,"c":{}}');
    expect(canonicalJson([1, undefined, 3])).toBe('[1,null,3]');
  });

  it('applies toJSON, so dates serialise as their ISO string', () => {
    const at = new Date(Date.UTC(2026, 10, 1));
    expect(canonicalJson({ at })).toBe('{"at":"2026-11-01T00:00:00.000Z"}');
    expect(canonicalJson({ price: { toJSON: () => '101.25' } })).toBe('{"price":"101.25"}');
  });

  it('gives the same text before and after a JSON round trip', () => {
    const value = { z: { y: [1, 'two', { x: undefined, w: null }] }, a: new Date(0), m: -0 };
    expect(canonicalJson(roundTrip(value))).toBe(canonicalJson(value));
  });

  it('rejects what JSON cannot represent', () => {
    expect(() => canonicalJson(NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(/non-finite/);
    expect(() => canonicalJson([Number.NEGATIVE_INFINITY])).toThrow(/non-finite/);
    expect(() => canonicalJson({ n: 10n })).toThrow(/bigint/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson(new Map())).toThrow(/Map/);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/circular/);
  });

  it('accepts shared, non-circular references', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
  });
});

describe('computeEntryHash', () => {
  it('is SHA-256 over prevHash, a newline and the canonical entry including prevHash', () => {
    const entry = unsealed(1);
    const expected = createHash('sha256')
      .update(`${GENESIS_HASH}\n${canonicalJson({ ...entry, prevHash: GENESIS_HASH })}`)
      .digest('hex');
    expect(computeEntryHash(entry, GENESIS_HASH)).toBe(expected);
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
  });

  it('changes with every field and with prevHash', () => {
    const entry = unsealed(1);
    const base = computeEntryHash(entry, GENESIS_HASH);
    const variants: Partial<UnsealedAuditEntry>[] = [
      { id: randomUUID() },
      { seq: '2' },
      { occurredAt: '2026-11-01T12:00:59.000Z' },
      { actorType: 'api_key' },
      { actorId: null },
      { action: 'user.created' },
      { targetType: null },
      { targetId: 'other' },
      { outcome: 'denied' },
      { ip: null },
      { requestId: null },
      { details: { step: 2 } },
    ];
    for (const change of variants) expect(computeEntryHash({ ...entry, ...change }, GENESIS_HASH)).not.toBe(base);
    expect(computeEntryHash(entry, 'a'.repeat(64))).not.toBe(base);
  });

  it('ignores properties outside the entry shape and survives a database round trip', () => {
    const sealed = sealAuditEntry(unsealed(7, { nested: { b: 1, a: undefined } }), GENESIS_HASH);
    const fromDb = { ...roundTrip(sealed), createdAt: new Date(), occurredAt: new Date(sealed.occurredAt) };
    expect(computeEntryHash(fromDb as unknown as AuditEntry, fromDb.prevHash)).toBe(sealed.hash);
  });

  it('treats absent nullable fields as null, as the database returns them', () => {
    const entry = unsealed(1);
    const withoutIp = { ...entry, ip: undefined } as unknown as UnsealedAuditEntry;
    expect(computeEntryHash(withoutIp, GENESIS_HASH)).toBe(computeEntryHash({ ...entry, ip: null }, GENESIS_HASH));
  });

  it('rejects malformed input instead of hashing it', () => {
    expect(() => computeEntryHash(unsealed(1), 'not-a-hash')).toThrow(/prevHash/);
    expect(() => computeEntryHash({ ...unsealed(1), seq: '1.5' }, GENESIS_HASH)).toThrow(/seq/);
    expect(() => computeEntryHash({ ...unsealed(1), occurredAt: 'yesterday' }, GENESIS_HASH)).toThrow(/occurredAt/);
    expect(() => computeEntryHash({ ...unsealed(1), details: { x: NaN } }, GENESIS_HASH)).toThrow(/non-finite/);
    expect(() => computeEntryHash({ ...unsealed(1), prevHash: 'b'.repeat(64) }, GENESIS_HASH)).toThrow(/differs/);
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain of five entries', () => {
    const chain = buildChain(5);
    expect(chain[0].prevHash).toBe(GENESIS_HASH);
    expect(verifyChain(chain)).toEqual({ ok: true, checked: 5 });
    expect(verifyChain([])).toEqual({ ok: true, checked: 0 });
  });

  it('names entry 3 with hash_mismatch when one of its details is changed', () => {
    const chain = buildChain(5);
    chain[2] = { ...chain[2], details: { ...chain[2].details, after: ['viewer', 'admin'] } };
    expect(verifyChain(chain)).toEqual({
      ok: false,
      checked: 2,
      firstBadId: chain[2].id,
      firstBadSeq: '3',
      reason: 'hash_mismatch',
    });
  });

  it('names entry 3 with hash_mismatch when any stored column is changed', () => {
    const chain = buildChain(5);
    chain[2] = { ...chain[2], outcome: 'failure' };
    expect(verifyChain(chain)).toMatchObject({ ok: false, firstBadSeq: '3', reason: 'hash_mismatch' });
  });

  it('names entry 4 with broken_link when an attacker rewrites entry 3 and re-hashes it', () => {
    const chain = buildChain(5);
    const { hash: _old, ...tampered } = { ...chain[2], actorId: randomUUID() };
    chain[2] = sealAuditEntry(tampered, tampered.prevHash);
    expect(verifyChain(chain)).toEqual({
      ok: false,
      checked: 3,
      firstBadId: chain[3].id,
      firstBadSeq: '4',
      reason: 'broken_link',
    });
  });

  it('names entry 4 with broken_link when entry 3 is deleted', () => {
    const chain = buildChain(5);
    const [, , , fourth] = chain;
    chain.splice(2, 1);
    expect(verifyChain(chain)).toEqual({
      ok: false,
      checked: 2,
      firstBadId: fourth.id,
      firstBadSeq: '4',
      reason: 'broken_link',
    });
  });

  it('detects reordering and an insertion', () => {
    const chain = buildChain(5);
    const swapped = [chain[0], chain[2], chain[1], chain[3], chain[4]];
    expect(verifyChain(swapped)).toMatchObject({ ok: false, firstBadSeq: '3', reason: 'broken_link' });

    const forged = sealAuditEntry(unsealed(3), chain[1].hash); // well-formed, but not in the chain
    const inserted = [chain[0], chain[1], forged, ...chain.slice(2)];
    expect(verifyChain(inserted)).toMatchObject({ ok: false, firstBadId: chain[2].id, reason: 'broken_link' });
  });

  it('rejects a chain that does not start at the given hash', () => {
    const chain = buildChain(5);
    expect(verifyChain(chain.slice(2))).toMatchObject({
      ok: false,
      checked: 0,
      firstBadSeq: '3',
      reason: 'broken_link',
    });
    expect(verifyChain(chain.slice(2), chain[1].hash)).toEqual({ ok: true, checked: 3 });
  });

  it('reports a row that can no longer be hashed as hash_mismatch rather than throwing', () => {
    const chain = buildChain(3);
    chain[1] = { ...chain[1], occurredAt: 'garbage' };
    expect(verifyChain(chain)).toMatchObject({ ok: false, firstBadSeq: '2', reason: 'hash_mismatch' });
  });

  it('verifies rows read back from the database', () => {
    expect(verifyChain(buildChain(5).map((e) => roundTrip(e)))).toEqual({ ok: true, checked: 5 });
  });

  it('stops reading the source at the first failure', () => {
    const chain = buildChain(5);
    chain[1] = { ...chain[1], action: 'tampered' };
    const read: string[] = [];
    function* rows(): Generator<AuditEntry> {
      for (const entry of chain) {
        read.push(entry.seq);
        yield entry;
      }
    }
    expect(verifyChain(rows())).toMatchObject({ ok: false, firstBadSeq: '2' });
    expect(read).toEqual(['1', '2']);
  });
});

describe('ChainVerifier (incremental)', () => {
  it('verifies page by page with the same verdict as verifyChain', () => {
    const chain = buildChain(5);
    const verifier = new ChainVerifier();
    for (const page of [chain.slice(0, 2), chain.slice(2, 4), chain.slice(4)]) {
      for (const entry of page) expect(verifier.push(entry)).toBeNull();
    }
    expect(verifier.result()).toEqual({ ok: true, checked: 5 });
    expect(verifier.lastHash).toBe(chain[4].hash);
    expect(verifier.lastSeq).toBe('5');
  });

  it('stays failed after the first bad entry', () => {
    const chain = buildChain(5);
    chain[2] = { ...chain[2], targetId: 'someone-else' };
    const verifier = new ChainVerifier(GENESIS_HASH);
    const results = chain.map((e) => verifier.push(e));
    expect(results.slice(0, 2)).toEqual([null, null]);
    expect(results[2]).toMatchObject({ firstBadSeq: '3', reason: 'hash_mismatch', checked: 2 });
    expect(results[3]).toBe(results[2]);
    expect(results[4]).toBe(results[2]);
    expect(verifier.checked).toBe(2);
    expect(verifier.lastHash).toBe(chain[1].hash);
    expect(verifier.result()).toBe(results[2]);
  });

  it('verifyChainAsync consumes an async page reader', async () => {
    const chain = buildChain(5);
    async function* pages(): AsyncGenerator<AuditEntry> {
      for (let offset = 0; offset < chain.length; offset += 2) {
        const page = await Promise.resolve(chain.slice(offset, offset + 2));
        yield* page;
      }
    }
    await expect(verifyChainAsync(pages())).resolves.toEqual({ ok: true, checked: 5 });
    chain.splice(3, 1);
    await expect(verifyChainAsync(pages())).resolves.toMatchObject({ ok: false, firstBadSeq: '5' });
  });
});

describe('redactSecrets', () => {
  it('redacts secret-looking keys at any depth, inside objects and arrays', () => {
    const input = {
      email: 'ada@example.com',
      password: 'hunter2',
      newPassword: 'hunter3',
      nested: {
        clientSecret: 's3cr3t',
        refresh_token: 'rt',
        list: [{ apiKey: 'bk_live_123', name: 'feed' }, { 'x-api-key': 'k' }, 'plain'],
        headers: { Authorization: 'Bearer abc', Cookie: 'sid=1', 'user-agent': 'curl' },
      },
      otp: '123456',
      recoveryCodes: ['a', 'b'],
      code: '654321',
      privateKey: { kty: 'EC', d: 'x' },
      roles: ['viewer'],
      count: 3,
    };
    expect(redactSecrets(input)).toEqual({
      email: 'ada@example.com',
      password: REDACTED,
      newPassword: REDACTED,
      nested: {
        clientSecret: REDACTED,
        refresh_token: REDACTED,
        list: [{ apiKey: REDACTED, name: 'feed' }, { 'x-api-key': REDACTED }, 'plain'],
        headers: { Authorization: REDACTED, Cookie: REDACTED, 'user-agent': 'curl' },
      },
      otp: REDACTED,
      recoveryCodes: REDACTED,
      code: REDACTED,
      privateKey: REDACTED,
      roles: ['viewer'],
      count: 3,
    });
  });

  it('does not modify its input and returns a deep copy', () => {
    const input = { a: { token: 't', keep: [1, 2] } };
    const output = redactSecrets(input);
    expect(input.a.token).toBe('t');
    expect(output.a).not.toBe(input.a);
    expect((output.a as { keep: number[] }).keep).not.toBe(input.a.keep);
  });

  it('redacts bearer headers and JWTs wherever they appear as values', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    expect(
      redactSecrets({ header: 'Bearer abcdefghijklmnop1234', note: jwt, phrase: 'bearer bonds', items: [jwt] }),
    ).toEqual({ header: REDACTED, note: REDACTED, phrase: 'bearer bonds', items: [REDACTED] });
  });

  it('produces plain JSON data: dates, errors, cycles and __proto__ keys', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const hostile = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const output = redactSecrets({
      at: new Date(Date.UTC(2026, 10, 1)),
      error: new Error('boom'),
      cyclic,
      hostile,
    });
    expect(output.at).toBe('2026-11-01T00:00:00.000Z');
    expect(output.error).toEqual({ name: 'Error', message: 'boom' });
    expect(output.cyclic).toEqual({ name: 'loop', self: '[circular]' });
    const copied = output.hostile as Record<string, unknown>;
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.hasOwn(copied, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => canonicalJson(output)).not.toThrow();
  });
});
