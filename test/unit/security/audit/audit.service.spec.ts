import type { DataSource, EntityManager, Repository } from 'typeorm';
import { RequestContexts } from '../../../../src/common/http/request-context';
import {
  type AuditEntry,
  GENESIS_HASH,
  REDACTED,
  computeEntryHash,
  sealAuditEntry,
} from '../../../../src/security/audit/audit-chain';
import type { AuditChainHead } from '../../../../src/security/audit/audit-chain-head.entity';
import type { AuditEvent } from '../../../../src/security/audit/audit-event.entity';
import { AuditRepository } from '../../../../src/security/audit/audit.repository';
import { AuditService, VERIFY_PAGE_SIZE } from '../../../../src/security/audit/audit.service';
import { AuditChainKeys } from '../../../../src/security/audit/audit-chain-keys';

const MASTER = Buffer.alloc(32, 7);
const keys = () => new AuditChainKeys({ current: 1, material: (v) => (v === 1 ? MASTER : null) });

/** Collaborators that must not be touched inside `record`: in embedded mode they would deadlock. */
const forbidden = <T extends object>(name: string): T =>
  new Proxy({} as T, {
    get: (_target, prop) => {
      throw new Error(`${name}.${String(prop)} used`);
    },
  });

/** A transaction's manager over an in-memory chain head and log, recording every statement. */
function fakeTransaction(head = { seq: '41', hash: 'a'.repeat(64) }, active = true) {
  const statements: { sql: string; params?: unknown[] }[] = [];
  const inserted: unknown[][] = [];
  const manager = {
    queryRunner: { isTransactionActive: active },
    query: async (sql: string, params?: unknown[]) => {
      statements.push({ sql, params });
      if (/^SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE$/.test(sql)) return [{ ...head }];
      // One statement appends the entry and moves the head: `SET seq = $2, hash = $14`.
      if (sql.includes('INSERT INTO audit_events')) inserted.push(params ?? []);
      if (/UPDATE audit_chain_head SET seq = \$2, hash = \$14 WHERE id = 1$/.test(sql))
        Object.assign(head, { seq: params?.[1], hash: params?.[13] });
      return [];
    },
  };
  return { manager: manager as unknown as EntityManager, statements, inserted, head };
}

describe('AuditService.record', () => {
  const service = () =>
    new AuditService(
      forbidden<DataSource>('dataSource'),
      new AuditRepository(forbidden<Repository<AuditEvent>>('events'), forbidden<Repository<AuditChainHead>>('heads')),
      keys(),
    );

  it('locks the head, then appends seq + 1 sealed onto the head hash and moves the head in one statement, all on the given manager', async () => {
    const tx = fakeTransaction();
    const entry = await service().record(tx.manager, {
      action: 'user.roles.changed',
      targetType: 'user',
      targetId: 'u-9',
      details: { before: ['viewer'], after: ['trader'] },
    });

    expect(tx.statements.map((s) => s.sql.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'SELECT seq, hash',
      'WITH appended AS',
    ]);
    expect(tx.statements[1].sql).toContain('INSERT INTO audit_events');
    expect(tx.head).toEqual({ seq: '42', hash: entry.hash });
    expect(entry.seq).toBe('42');
    expect(entry.prevHash).toBe('a'.repeat(64));
    expect(entry.keyVersion).toBe(1);
    expect(entry.hash).toBe(computeEntryHash(entry, entry.prevHash, keys().current));
    expect(entry.hash).not.toBe(computeEntryHash({ ...entry, keyVersion: 0 }, entry.prevHash));
    expect(tx.head).toEqual({ seq: '42', hash: entry.hash });
    expect(tx.inserted[0]).toEqual([
      entry.id,
      '42',
      entry.occurredAt,
      'system',
      'bastion',
      'user.roles.changed',
      'user',
      'u-9',
      'success',
      null,
      null,
      JSON.stringify({ before: ['viewer'], after: ['trader'] }),
      entry.prevHash,
      entry.hash,
      1,
    ]);
  });

  it('chains consecutive records', async () => {
    const tx = fakeTransaction({ seq: '0', hash: GENESIS_HASH });
    const first = await service().record(tx.manager, { action: 'a' });
    const second = await service().record(tx.manager, { action: 'b' });
    expect([first.seq, second.seq]).toEqual(['1', '2']);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(second.prevHash).toBe(first.hash);
  });

  it('records the request context and redacts details', async () => {
    const tx = fakeTransaction();
    const entry = await RequestContexts.run(
      { requestId: 'r-1', ip: '203.0.113.7', actor: { type: 'user', id: 'u-1' } },
      () => service().record(tx.manager, { action: 'auth.password_changed', details: { newPassword: 'hunter2' } }),
    );
    expect(entry).toMatchObject({ actorType: 'user', actorId: 'u-1', ip: '203.0.113.7', requestId: 'r-1' });
    expect(entry.details).toEqual({ newPassword: REDACTED });
    expect(JSON.stringify(tx.inserted)).not.toContain('hunter2');
  });

  it('refuses a manager outside a transaction before running any query', async () => {
    const tx = fakeTransaction(undefined, false);
    await expect(service().record(tx.manager, { action: 'a' })).rejects.toThrow(/open transaction/);
    expect(tx.statements).toEqual([]);
  });
});

describe('AuditService.recordAlone', () => {
  it('runs record in a transaction of its own', async () => {
    const tx = fakeTransaction();
    const dataSource = { transaction: jest.fn((fn: (m: EntityManager) => Promise<unknown>) => fn(tx.manager)) };
    const service = new AuditService(
      dataSource as unknown as DataSource,
      new AuditRepository(forbidden<Repository<AuditEvent>>('events'), forbidden<Repository<AuditChainHead>>('heads')),
      keys(),
    );
    const entry = await service.recordAlone({ action: 'auth.login', outcome: 'failure' });
    expect(dataSource.transaction).toHaveBeenCalledTimes(1);
    expect(entry).toMatchObject({ seq: '42', outcome: 'failure' });
  });
});

describe('AuditService.verify', () => {
  /** A chain of `length` rows as the repository returns them (Date times, as the pg driver gives). */
  function chain(length: number): AuditEvent[] {
    const rows: AuditEvent[] = [];
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= length; seq++) {
      const entry: AuditEntry = sealAuditEntry(
        {
          id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
          seq: String(seq),
          occurredAt: new Date(Date.UTC(2026, 10, 1) + seq).toISOString(),
          actorType: 'user',
          actorId: 'u-1',
          action: 'trade.recorded',
          targetType: 'portfolio',
          targetId: 'p-1',
          outcome: 'success',
          ip: null,
          requestId: null,
          details: { n: seq },
        },
        prevHash,
        keys().current,
      );
      rows.push({ ...entry, keyVersion: entry.keyVersion ?? 0, occurredAt: new Date(entry.occurredAt) });
      prevHash = entry.hash;
    }
    return rows;
  }

  /** Just enough of TypeORM's query builder for the queries `verify` makes, over an array. */
  function fakeRepositories(rows: AuditEvent[], head: { seq: string; hash: string }) {
    const pages: string[] = [];
    const events = {
      createQueryBuilder: () => {
        const params: Record<string, string> = {};
        let beyondHead = false;
        let take = Infinity;
        const select = () =>
          rows
            .filter((r) => (beyondHead ? BigInt(r.seq) > BigInt(head.seq) : true))
            .filter((r) => params.afterSeq === undefined || BigInt(r.seq) > BigInt(params.afterSeq))
            .filter((r) => params.headSeq === undefined || BigInt(r.seq) <= BigInt(params.headSeq))
            .sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq)))
            .slice(0, take);
        const qb = {
          where: (sql: string, p?: Record<string, string>) => {
            if (sql.includes('audit_chain_head')) beyondHead = true;
            Object.assign(params, p);
            return qb;
          },
          andWhere: (_sql: string, p?: Record<string, string>) => (Object.assign(params, p), qb),
          orderBy: () => qb,
          take: (n: number) => ((take = n), qb),
          getMany: async () => {
            pages.push(params.afterSeq);
            return select();
          },
          getOne: async () => select()[0] ?? null,
        };
        return qb;
      },
    };
    const heads = { findOneBy: async () => ({ id: 1, ...head }) };
    return {
      pages,
      service: new AuditService(
        forbidden<DataSource>('dataSource'),
        new AuditRepository(
          events as unknown as Repository<AuditEvent>,
          heads as unknown as Repository<AuditChainHead>,
        ),
        keys(),
      ),
    };
  }

  const headOf = (rows: AuditEvent[]) => ({ seq: rows[rows.length - 1].seq, hash: rows[rows.length - 1].hash });

  it(`reads the chain in pages of ${VERIFY_PAGE_SIZE} and accepts an intact one`, async () => {
    const rows = chain(2 * VERIFY_PAGE_SIZE + 3);
    const { service, pages } = fakeRepositories(rows, headOf(rows));
    expect(await service.verify()).toEqual({
      valid: true,
      checked: rows.length,
      headSeq: String(rows.length),
      headHash: rows[rows.length - 1].hash,
      segments: [
        { scheme: 'hmac-sha256', keyVersion: 1, firstSeq: '1', lastSeq: String(rows.length), entries: rows.length },
      ],
    });
    expect(pages).toEqual(['0', String(VERIFY_PAGE_SIZE), String(2 * VERIFY_PAGE_SIZE)]);
  });

  it('accepts an empty log whose head is the genesis', async () => {
    const { service } = fakeRepositories([], { seq: '0', hash: GENESIS_HASH });
    expect(await service.verify()).toEqual({
      valid: true,
      checked: 0,
      headSeq: '0',
      headHash: GENESIS_HASH,
      segments: [],
    });
  });

  it('names an edited entry on a later page, and stops reading there', async () => {
    const rows = chain(3 * VERIFY_PAGE_SIZE);
    const head = headOf(rows);
    rows[1499] = { ...rows[1499], details: { n: 1 } };
    const { service, pages } = fakeRepositories(rows, head);
    expect(await service.verify()).toMatchObject({
      valid: false,
      checked: 1499,
      firstInvalid: { id: rows[1499].id, seq: '1500', reason: 'hash_mismatch' },
    });
    expect(pages).toHaveLength(2);
  });

  it('reports a removed entry as a broken link at the entry after it', async () => {
    const rows = chain(10);
    const head = headOf(rows);
    rows.splice(4, 1);
    const { service } = fakeRepositories(rows, head);
    expect(await service.verify()).toMatchObject({
      valid: false,
      checked: 4,
      firstInvalid: { id: rows[4].id, seq: '6', reason: 'broken_link' },
    });
  });

  it('reports removed newest entries as a head mismatch at the seq the head names', async () => {
    const rows = chain(10);
    const head = headOf(rows);
    const { service } = fakeRepositories(rows.slice(0, 8), head);
    expect(await service.verify()).toMatchObject({
      valid: false,
      checked: 8,
      firstInvalid: { id: null, seq: '10', reason: 'head_mismatch' },
    });
  });

  it('reports a head whose hash is not the last entry’s', async () => {
    const rows = chain(5);
    const { service } = fakeRepositories(rows, { seq: '5', hash: 'f'.repeat(64) });
    expect(await service.verify()).toMatchObject({
      valid: false,
      checked: 5,
      firstInvalid: { id: rows[4].id, seq: '5', reason: 'head_mismatch' },
    });
  });

  it('refuses a log that ends unkeyed (rewritten with plain SHA-256), and verifies an unkeyed prefix under its old scheme', async () => {
    const plain = (rows: AuditEvent[]) => {
      let prevHash = GENESIS_HASH;
      return rows.map((r) => {
        const { hash: _h, prevHash: _p, ...fields } = r;
        const entry = sealAuditEntry({ ...fields, occurredAt: r.occurredAt.toISOString(), keyVersion: 0 }, prevHash);
        prevHash = entry.hash;
        return { ...entry, keyVersion: 0, occurredAt: r.occurredAt };
      });
    };
    const forged = plain(chain(4));
    const { service } = fakeRepositories(forged, headOf(forged));
    expect(await service.verify()).toEqual({
      valid: false,
      checked: 4,
      firstInvalid: { id: forged[3].id, seq: '4', reason: 'unkeyed_head' },
      segments: [{ scheme: 'sha256', keyVersion: 0, firstSeq: '1', lastSeq: '4', entries: 4 }],
    });

    // Three entries from before keying, then a keyed one sealed onto the last plain hash.
    const legacy = plain(chain(3));
    const next = chain(4)[3];
    const { hash: _h, prevHash: _p, ...fields } = next;
    const sealed = sealAuditEntry(
      { ...fields, occurredAt: next.occurredAt.toISOString(), keyVersion: undefined },
      legacy[2].hash,
      keys().current,
    );
    const mixed = [...legacy, { ...sealed, keyVersion: 1, occurredAt: next.occurredAt }];
    const verified = fakeRepositories(mixed, headOf(mixed));
    expect(await verified.service.verify()).toMatchObject({
      valid: true,
      checked: 4,
      segments: [
        { scheme: 'sha256', keyVersion: 0, firstSeq: '1', lastSeq: '3', entries: 3 },
        { scheme: 'hmac-sha256', keyVersion: 1, firstSeq: '4', lastSeq: '4', entries: 1 },
      ],
    });
  });

  it('reports entries beyond the head', async () => {
    const rows = chain(6);
    const { service } = fakeRepositories(rows, headOf(rows.slice(0, 5)));
    expect(await service.verify()).toMatchObject({
      valid: false,
      checked: 5,
      firstInvalid: { id: rows[5].id, seq: '6', reason: 'head_mismatch' },
    });
  });
});

describe('AuditService.onApplicationBootstrap', () => {
  function bootstrapWith(headRow: { seq: string; key_version: number | null }) {
    const tx = fakeTransaction({ seq: headRow.seq, hash: 'b'.repeat(64) });
    const query = tx.manager.query.bind(tx.manager) as (sql: string, params?: unknown[]) => Promise<unknown>;
    (tx.manager as unknown as { query: typeof query }).query = async (sql: string, params?: unknown[]) =>
      sql.includes('LEFT JOIN audit_events') ? [headRow] : query(sql, params);
    const dataSource = { transaction: (fn: (m: EntityManager) => Promise<unknown>) => fn(tx.manager) };
    const service = new AuditService(
      dataSource as unknown as DataSource,
      new AuditRepository(forbidden<Repository<AuditEvent>>('events'), forbidden<Repository<AuditChainHead>>('heads')),
      keys(),
    );
    return { tx, service };
  }

  it('seals a log that ends unkeyed with one keyed entry linked to the last plain hash', async () => {
    const { tx, service } = bootstrapWith({ seq: '7', key_version: 0 });
    await service.onApplicationBootstrap();
    expect(tx.inserted).toHaveLength(1);
    const row = tx.inserted[0];
    expect(row[5]).toBe('audit.chain_keyed');
    expect(JSON.parse(row[11] as string)).toEqual({ keyVersion: 1, scheme: 'hmac-sha256', unkeyedEntries: '7' });
    expect(row[12]).toBe('b'.repeat(64));
    expect(row[14]).toBe(1);
  });

  it('leaves an empty or already keyed log alone', async () => {
    for (const head of [
      { seq: '0', key_version: null },
      { seq: '9', key_version: 1 },
    ]) {
      const { tx, service } = bootstrapWith(head);
      await service.onApplicationBootstrap();
      expect(tx.inserted).toHaveLength(0);
    }
  });
});
