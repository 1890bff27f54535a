import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RequestContexts } from '../../../src/common/http/request-context';
import { GENESIS_HASH, REDACTED, computeEntryHash } from '../../../src/security/audit/audit-chain';
import { AuditService } from '../../../src/security/audit/audit.service';
import type { AuditEventDto } from '../../../src/security/audit/dto/audit-event.dto';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'root@example.com', password: 'Correct-Horse-Battery-9' };
const HASH = /^[0-9a-f]{64}$/;
const PROBLEM = /^application\/problem\+json/;

/** Runs `sql` with the append-only trigger off, in one transaction, so no other session ever sees it off. */
async function asSuperuserWithoutTrigger(ds: DataSource, sql: string, params: unknown[] = []): Promise<void> {
  await ds.transaction(async (m) => {
    await m.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
    await m.query(sql, params);
    await m.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
  });
}

// The project-level testTimeout in jest.config.js is not applied by Jest 30; app start-up needs more than 5 s.
jest.setTimeout(60_000);

describe('Audit log', () => {
  let t: TestApp;
  let audit: AuditService;
  let ds: DataSource;

  beforeAll(async () => {
    t = await startTestApp({
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    });
    audit = t.app.get(AuditService);
    ds = t.app.get(DataSource);
  });
  afterAll(() => t?.close());

  const rowsOf = (targetId: string) =>
    ds.query<{ id: string; seq: string; details: Record<string, unknown> }[]>(
      'SELECT id, seq, details FROM audit_events WHERE target_id = $1 ORDER BY seq',
      [targetId],
    );

  describe('AuditService', () => {
    it('keeps the chain intact under 200 concurrent writers, with gapless unique seqs', async () => {
      const marker = randomUUID();
      const written = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          audit.recordAlone({ action: 'test.concurrent', targetType: 'probe', targetId: marker, details: { i } }),
        ),
      );

      expect(new Set(written.map((e) => e.seq)).size).toBe(200);
      expect(new Set(written.map((e) => e.id)).size).toBe(200);
      const stored = await rowsOf(marker);
      expect(stored.map((r) => r.details.i).sort((a, b) => Number(a) - Number(b))).toEqual(
        Array.from({ length: 200 }, (_, i) => i),
      );

      const all = await ds.query<{ seq: string }[]>('SELECT seq FROM audit_events ORDER BY seq');
      expect(all.map((r) => Number(r.seq))).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));

      const verdict = await audit.verify();
      expect(verdict).toEqual({
        valid: true,
        checked: all.length,
        headSeq: String(all.length),
        headHash: expect.stringMatching(HASH),
        segments: [
          { scheme: 'hmac-sha256', keyVersion: 1, firstSeq: '1', lastSeq: String(all.length), entries: all.length },
        ],
      });
      expect(verdict.checked).toBeGreaterThanOrEqual(200);
      const [head] = await ds.query<{ seq: string; hash: string }[]>('SELECT seq, hash FROM audit_chain_head');
      expect(head).toEqual({ seq: verdict.headSeq, hash: verdict.headHash });
    });

    it('links each entry to the previous one and returns what it stored', async () => {
      const first = await audit.recordAlone({ action: 'test.link', targetId: randomUUID() });
      const second = await audit.recordAlone({ action: 'test.link', targetId: randomUUID() });
      expect(BigInt(second.seq)).toBe(BigInt(first.seq) + 1n);
      expect(second.prevHash).toBe(first.hash);
      expect(first.prevHash).not.toBe(GENESIS_HASH);

      const page = await audit.list({ action: 'test.link', limit: 2 });
      expect(page.items).toEqual([second, first]);
    });

    it('stores nothing when the transaction it was recorded in rolls back', async () => {
      const marker = randomUUID();
      const [before] = await ds.query<{ seq: string }[]>('SELECT seq FROM audit_chain_head');
      await expect(
        ds.transaction(async (m) => {
          await audit.record(m, { action: 'test.rolled-back', targetId: marker });
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');

      expect(await rowsOf(marker)).toEqual([]);
      const [after] = await ds.query<{ seq: string }[]>('SELECT seq FROM audit_chain_head');
      expect(after.seq).toBe(before.seq);

      // The next entry takes the seq the rolled-back one had, and the chain stays intact.
      const next = await audit.recordAlone({ action: 'test.after-rollback', targetId: marker });
      expect(BigInt(next.seq)).toBe(BigInt(before.seq) + 1n);
      expect((await audit.verify()).valid).toBe(true);
    });

    it('commits the entry with the change it records', async () => {
      const marker = randomUUID();
      const entry = await ds.transaction(async (m) => {
        await m.query('SELECT 1'); // stands for the audited change
        return audit.record(m, { action: 'test.committed', targetId: marker, outcome: 'success' });
      });
      expect(await rowsOf(marker)).toEqual([{ id: entry.id, seq: entry.seq, details: {} }]);
    });

    it('refuses a manager that is not in a transaction', async () => {
      await expect(audit.record(ds.manager, { action: 'test.no-transaction' })).rejects.toThrow(/open transaction/);
    });

    it('takes actor, ip and request id from the request context, and defaults to the system actor', async () => {
      const inRequest = await RequestContexts.run(
        { requestId: 'req-audit-1', ip: '203.0.113.9', actor: { type: 'api_key', id: 'key-1', userId: 'u-1' } },
        () => audit.recordAlone({ action: 'test.context', targetId: randomUUID(), outcome: 'denied' }),
      );
      expect(inRequest).toMatchObject({
        actorType: 'api_key',
        actorId: 'key-1',
        ip: '203.0.113.9',
        requestId: 'req-audit-1',
        outcome: 'denied',
      });

      const outside = await audit.recordAlone({ action: 'test.context' });
      expect(outside).toMatchObject({ actorType: 'system', actorId: 'bastion', ip: null, requestId: null });
      expect(outside.outcome).toBe('success');

      const explicit = await RequestContexts.run({ requestId: 'req-audit-2', ip: '198.51.100.1' }, () =>
        audit.recordAlone({ action: 'test.context', actor: { type: 'user', id: 'u-2' }, ip: '192.0.2.4' }),
      );
      expect(explicit).toMatchObject({ actorType: 'user', actorId: 'u-2', ip: '192.0.2.4', requestId: 'req-audit-2' });
    });

    it('refuses UPDATE, DELETE and TRUNCATE of audit events, and moving the head back', async () => {
      const entry = await audit.recordAlone({ action: 'test.immutable', targetId: randomUUID() });
      await expect(ds.query('UPDATE audit_events SET action = $1 WHERE id = $2', ['x', entry.id])).rejects.toThrow(
        /append-only/,
      );
      await expect(ds.query('DELETE FROM audit_events WHERE id = $1', [entry.id])).rejects.toThrow(/append-only/);
      await expect(ds.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
      await expect(ds.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
      await expect(ds.query('UPDATE audit_chain_head SET seq = 0, hash = $1', [GENESIS_HASH])).rejects.toThrow(
        /only moves forward/,
      );
      await expect(ds.query('DELETE FROM audit_chain_head')).rejects.toThrow(/only moves forward/);

      const [row] = await ds.query<{ action: string }[]>('SELECT action FROM audit_events WHERE id = $1', [entry.id]);
      expect(row.action).toBe('test.immutable');
      expect((await audit.verify()).valid).toBe(true);
    });

    it('names exactly the edited entry when a superuser changes one behind the trigger', async () => {
      const marker = randomUUID();
      const entries: AuditEventDto[] = [];
      for (let i = 0; i < 3; i++) {
        entries.push(await audit.recordAlone({ action: 'test.tamper', targetId: marker, details: { amount: '100' } }));
      }
      const victim = entries[1];

      await asSuperuserWithoutTrigger(ds, `UPDATE audit_events SET details = '{"amount":"1"}' WHERE id = $1`, [
        victim.id,
      ]);
      expect(await audit.verify()).toMatchObject({
        valid: false,
        checked: Number(victim.seq) - 1,
        firstInvalid: { id: victim.id, seq: victim.seq, reason: 'hash_mismatch' },
      });

      // Put it back: the chain verifies again, so the later tests see an intact log.
      await asSuperuserWithoutTrigger(ds, `UPDATE audit_events SET details = '{"amount":"100"}' WHERE id = $1`, [
        victim.id,
      ]);
      expect((await audit.verify()).valid).toBe(true);
    });

    it('reports a removed entry as a broken link, and removed newest entries as a head mismatch', async () => {
      const marker = randomUUID();
      const entries: AuditEventDto[] = [];
      for (let i = 0; i < 3; i++) entries.push(await audit.recordAlone({ action: 'test.remove', targetId: marker }));
      const [middle, newest] = [entries[1], entries[2]];
      const saved = await ds.query<Record<string, unknown>[]>(
        'SELECT * FROM audit_events WHERE id = ANY($1) ORDER BY seq',
        [[middle.id, newest.id]],
      );
      const restore = async (row: Record<string, unknown>) => {
        const columns = Object.keys(row);
        await ds.query(
          `INSERT INTO audit_events (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
          columns.map((c) => (c === 'details' ? JSON.stringify(row[c]) : row[c])),
        );
      };

      await asSuperuserWithoutTrigger(ds, 'DELETE FROM audit_events WHERE id = $1', [middle.id]);
      expect(await audit.verify()).toMatchObject({
        valid: false,
        firstInvalid: { id: newest.id, seq: newest.seq, reason: 'broken_link' },
      });
      await restore(saved[0]);
      expect((await audit.verify()).valid).toBe(true);

      await asSuperuserWithoutTrigger(ds, 'DELETE FROM audit_events WHERE id = $1', [newest.id]);
      expect(await audit.verify()).toMatchObject({
        valid: false,
        checked: Number(middle.seq),
        firstInvalid: { id: null, seq: newest.seq, reason: 'head_mismatch' },
      });
      await restore(saved[1]);
      expect((await audit.verify()).valid).toBe(true);
    });

    it('detects history rewritten by someone without the key who recomputes plain SHA-256 hashes', async () => {
      const marker = randomUUID();
      const entries: AuditEventDto[] = [];
      for (let i = 0; i < 3; i++) {
        entries.push(await audit.recordAlone({ action: 'test.forge', targetId: marker, details: { amount: '100' } }));
      }
      expect(entries.map((e) => e.keyVersion)).toEqual([1, 1, 1]);
      const [head] = await ds.query<{ seq: string; hash: string }[]>('SELECT seq, hash FROM audit_chain_head');
      expect(head.seq).toBe(entries[2].seq); // nothing else wrote meanwhile: the forgery covers the tail

      // Rewrite the middle entry and everything after it, re-hashed with plain SHA-256.
      const forge = async (markUnkeyed: boolean) => {
        let prevHash = entries[0].hash;
        await ds.transaction(async (m) => {
          await m.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
          await m.query('ALTER TABLE audit_chain_head DISABLE TRIGGER audit_chain_head_forward_only');
          for (const original of entries.slice(1)) {
            const edited = { ...original, details: { amount: '1' }, prevHash, keyVersion: 0 };
            const hash = computeEntryHash(edited, prevHash);
            await m.query(
              'UPDATE audit_events SET details = $2::jsonb, prev_hash = $3, hash = $4, key_version = $5 WHERE id = $1',
              [original.id, JSON.stringify(edited.details), prevHash, hash, markUnkeyed ? 0 : 1],
            );
            prevHash = hash;
          }
          await m.query('UPDATE audit_chain_head SET hash = $1 WHERE id = 1', [prevHash]);
          await m.query('ALTER TABLE audit_chain_head ENABLE TRIGGER audit_chain_head_forward_only');
          await m.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
        });
      };
      const restore = async () => {
        await ds.transaction(async (m) => {
          await m.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
          await m.query('ALTER TABLE audit_chain_head DISABLE TRIGGER audit_chain_head_forward_only');
          for (const e of entries.slice(1)) {
            await m.query(
              'UPDATE audit_events SET details = $2::jsonb, prev_hash = $3, hash = $4, key_version = 1 WHERE id = $1',
              [e.id, JSON.stringify(e.details), e.prevHash, e.hash],
            );
          }
          await m.query('UPDATE audit_chain_head SET hash = $1 WHERE id = 1', [head.hash]);
          await m.query('ALTER TABLE audit_chain_head ENABLE TRIGGER audit_chain_head_forward_only');
          await m.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
        });
      };

      await forge(true);
      expect(await audit.verify()).toMatchObject({
        valid: false,
        firstInvalid: { id: entries[1].id, seq: entries[1].seq, reason: 'scheme_downgrade' },
      });
      await forge(false);
      expect(await audit.verify()).toMatchObject({
        valid: false,
        firstInvalid: { id: entries[1].id, seq: entries[1].seq, reason: 'hash_mismatch' },
      });
      await restore();
      expect(await audit.verify()).toMatchObject({ valid: true, segments: [{ scheme: 'hmac-sha256', keyVersion: 1 }] });
    });

    it('redacts secrets in details before storing them, and still verifies after the jsonb round trip', async () => {
      const marker = randomUUID();
      const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
      const entry = await audit.recordAlone({
        action: 'test.secrets',
        targetId: marker,
        details: {
          email: 'alice@example.com',
          password: 'hunter2-hunter2',
          nested: { apiKey: 'bk_live_abcdef0123456789', newRoles: ['trader'], refreshToken: 'r-secret-value' },
          header: `Bearer ${jwt}`,
          list: [{ totpSecret: 'JBSWY3DPEHPK3PXP' }, jwt],
          // Values jsonb changes or refuses: they must not break the hash.
          when: new Date('2026-11-28T12:00:00.123Z'),
          big: 12345678901234567890n,
          notANumber: Number.NaN,
          nul: 'a\u0000b',
          skipped: undefined,
          order: { z: 1, a: 2 },
        },
      });

      const [row] = await ds.query<{ details: Record<string, unknown>; text: string }[]>(
        'SELECT details, details::text AS text FROM audit_events WHERE id = $1',
        [entry.id],
      );
      for (const secret of ['hunter2', 'bk_live_', 'r-secret-value', 'JBSWY3DPEHPK3PXP', 'eyJhbGci']) {
        expect(row.text).not.toContain(secret);
      }
      expect(row.details).toEqual({
        email: 'alice@example.com',
        password: REDACTED,
        nested: { apiKey: REDACTED, newRoles: ['trader'], refreshToken: REDACTED },
        header: REDACTED,
        list: [{ totpSecret: REDACTED }, REDACTED],
        when: '2026-11-28T12:00:00.123Z',
        big: '12345678901234567890',
        notANumber: null,
        nul: 'a\uFFFDb',
        order: { a: 2, z: 1 },
      });
      expect(entry.details).toEqual(row.details);
      expect((await audit.verify()).valid).toBe(true);
    });
  });

  describe('HTTP API', () => {
    let token: string;
    const auth = () => ({ Authorization: `Bearer ${token}` });

    beforeAll(async () => {
      const res = await t.http.post('/api/v1/auth/login').send(ADMIN);
      expect([200, 201]).toContain(res.status);
      token = (res.body as { accessToken: string }).accessToken;
      expect(token).toEqual(expect.any(String));
    });

    it('refuses callers without a token with 401 problem+json', async () => {
      for (const path of ['/api/v1/audit-events', '/api/v1/audit-events/verify']) {
        const res = await t.http.get(path);
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.body.code).toBe('UNAUTHENTICATED');
      }
      const forged = await t.http.get('/api/v1/audit-events').set('Authorization', 'Bearer not-a-token');
      expect(forged.status).toBe(401);
    });

    it('lists entries newest first with every field', async () => {
      const marker = randomUUID();
      const a = await audit.recordAlone({ action: 'test.http.fields', targetType: 'probe', targetId: marker });
      const b = await audit.recordAlone({ action: 'test.http.fields', targetType: 'probe', targetId: marker });
      const res = await t.http.get('/api/v1/audit-events').query({ targetId: marker }).set(auth());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [b, a], nextCursor: null });
      for (const item of res.body.items as AuditEventDto[]) {
        expect(item).toEqual({
          id: expect.any(String),
          seq: expect.stringMatching(/^\d+$/),
          occurredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
          actorType: 'system',
          actorId: 'bastion',
          action: 'test.http.fields',
          targetType: 'probe',
          targetId: marker,
          outcome: 'success',
          ip: null,
          requestId: null,
          details: {},
          prevHash: expect.stringMatching(HASH),
          hash: expect.stringMatching(HASH),
          keyVersion: 1,
        });
      }
    });

    it('filters by actor, action, target, outcome and time, combined with AND', async () => {
      const marker = randomUUID();
      const action = `test.http.filter.${marker}`;
      const alice = { type: 'user' as const, id: randomUUID() };
      const key = { type: 'api_key' as const, id: randomUUID() };
      const e1 = await audit.recordAlone({ action, actor: alice, targetType: 'portfolio', targetId: 'p1' });
      const e2 = await audit.recordAlone({
        action,
        actor: alice,
        targetType: 'portfolio',
        targetId: 'p2',
        outcome: 'denied',
      });
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct instants for the time filters
      const e3 = await audit.recordAlone({
        action,
        actor: key,
        targetType: 'user',
        targetId: 'p1',
        outcome: 'failure',
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      const e4 = await audit.recordAlone({ action, actor: key, targetType: 'portfolio', targetId: 'p1' });

      const ids = async (query: Record<string, string>) => {
        const res = await t.http
          .get('/api/v1/audit-events')
          .query({ action, ...query })
          .set(auth());
        expect(res.status).toBe(200);
        return (res.body.items as AuditEventDto[]).map((e) => e.id);
      };
      expect(await ids({})).toEqual([e4.id, e3.id, e2.id, e1.id]);
      expect(await ids({ actorId: alice.id })).toEqual([e2.id, e1.id]);
      expect(await ids({ actorType: 'api_key' })).toEqual([e4.id, e3.id]);
      expect(await ids({ targetType: 'portfolio', targetId: 'p1' })).toEqual([e4.id, e1.id]);
      expect(await ids({ targetId: 'p1' })).toEqual([e4.id, e3.id, e1.id]);
      expect(await ids({ outcome: 'denied' })).toEqual([e2.id]);
      expect(await ids({ outcome: 'failure', actorId: alice.id })).toEqual([]);
      // from is inclusive, to exclusive.
      expect(await ids({ from: e3.occurredAt })).toEqual([e4.id, e3.id]);
      expect(await ids({ to: e3.occurredAt })).toEqual([e2.id, e1.id]);
      expect(await ids({ from: e3.occurredAt, to: e4.occurredAt })).toEqual([e3.id]);
      const offset = e3.occurredAt.replace('Z', '+00:00');
      expect(await ids({ from: offset })).toEqual([e4.id, e3.id]);
      expect(await ids({ to: '2000-01-01' })).toEqual([]);
      expect(await ids({ actorId: randomUUID() })).toEqual([]);
    });

    it('walks every page with the cursor, without duplicates or gaps', async () => {
      const action = `test.http.page.${randomUUID()}`;
      const written: AuditEventDto[] = [];
      for (let i = 0; i < 23; i++) written.push(await audit.recordAlone({ action, details: { i } }));

      const seen: AuditEventDto[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await t.http
          .get('/api/v1/audit-events')
          .query({ action, limit: 5, ...(cursor ? { cursor } : {}) })
          .set(auth());
        expect(res.status).toBe(200);
        const body = res.body as { items: AuditEventDto[]; nextCursor: string | null };
        expect(body.items.length).toBeLessThanOrEqual(5);
        seen.push(...body.items);
        cursor = body.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 20);

      expect(pages).toBe(5);
      expect(seen.map((e) => e.id)).toEqual(written.map((e) => e.id).reverse());
      expect(new Set(seen.map((e) => e.id)).size).toBe(23);
    });

    it('answers invalid queries with 400 naming the field', async () => {
      const cases: [Record<string, string>, string][] = [
        [{ outcome: 'maybe' }, 'outcome'],
        [{ actorType: 'robot' }, 'actorType'],
        [{ from: 'yesterday' }, 'from'],
        [{ to: '2026-11-28T12:00:00' }, 'to'], // no time zone
        [{ limit: '0' }, 'limit'],
        [{ limit: '1000' }, 'limit'],
        [{ cursor: 'not-a-cursor' }, 'cursor'],
        [{ cursor: Buffer.from(JSON.stringify({ k: "1'; DROP", id: 'x' })).toString('base64url') }, 'cursor'],
        [{ isAdmin: 'true' }, 'isAdmin'],
      ];
      for (const [query, field] of cases) {
        const res = await t.http.get('/api/v1/audit-events').query(query).set(auth());
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expect(res.headers['content-type']).toMatch(PROBLEM);
        // A cursor this API did not make has its own code (the one decoder of every list).
        expect(res.body.code).toBe(field === 'cursor' ? 'INVALID_CURSOR' : 'VALIDATION_FAILED');
        expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
      }
    });

    it('verifies the chain over HTTP and reports tampering', async () => {
      const ok = await t.http.get('/api/v1/audit-events/verify').set(auth());
      expect(ok.status).toBe(200);
      const [head] = await ds.query<{ seq: string; hash: string }[]>('SELECT seq, hash FROM audit_chain_head');
      expect(ok.body).toEqual({
        valid: true,
        checked: Number(head.seq),
        headSeq: head.seq,
        headHash: head.hash,
        segments: [
          { scheme: 'hmac-sha256', keyVersion: 1, firstSeq: '1', lastSeq: head.seq, entries: Number(head.seq) },
        ],
      });

      const victim = await audit.recordAlone({ action: 'test.http.tamper', targetId: 'x', details: { n: 1 } });
      await audit.recordAlone({ action: 'test.http.tamper' });
      await asSuperuserWithoutTrigger(ds, `UPDATE audit_events SET target_id = 'y' WHERE id = $1`, [victim.id]);
      const bad = await t.http.get('/api/v1/audit-events/verify').set(auth());
      expect(bad.status).toBe(200);
      expect(bad.body).toMatchObject({
        valid: false,
        checked: Number(victim.seq) - 1,
        firstInvalid: { id: victim.id, seq: victim.seq, reason: 'hash_mismatch' },
      });
      await asSuperuserWithoutTrigger(ds, `UPDATE audit_events SET target_id = 'x' WHERE id = $1`, [victim.id]);
      const again = await t.http.get('/api/v1/audit-events/verify').set(auth());
      expect(again.body.valid).toBe(true);
    });

    it('documents both operations in the OpenAPI document', async () => {
      const res = await t.http.get('/docs-json');
      const paths = res.body.paths as Record<string, { get?: { tags?: string[]; parameters?: { name: string }[] } }>;
      expect(paths['/api/v1/audit-events']?.get?.tags).toEqual(['audit']);
      expect(paths['/api/v1/audit-events/verify']?.get?.tags).toEqual(['audit']);
      const params = (paths['/api/v1/audit-events']?.get?.parameters ?? []).map((p) => p.name).sort();
      expect(params).toEqual(
        ['action', 'actorId', 'actorType', 'cursor', 'from', 'limit', 'outcome', 'targetId', 'targetType', 'to'].sort(),
      );
    });
  });
});
