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
import { AuditService, VERIFY_PAGE_SIZE } from '../../../../src/security/audit/audit.service';

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
      if (sql.includes('INSERT INTO audit_events')) inserted.push(params ?? []);
      if (sql.startsWith('UPDATE audit_chain_head')) Object.assign(head, { seq: params?.[0], hash: params?.[1] });
      return [];
    },
  };
  return { manager: manager as unknown as EntityManager, statements, inserted, head };
}

describe('AuditService.record', () => {
  const service = () =>
    new AuditService(
      forbidden<DataSource>('dataSource'),
      forbidden<Repository<AuditEvent>>('events'),
      forbidden<Repository<AuditChainHead>>('heads'),
    );

  it('locks the head, appends seq + 1 sealed onto the head hash, then moves the head, all on the given manager', async () => {
    const tx = fakeTransaction();
    const entry = await service().record(tx.manager, {
      action: 'user.roles.changed',
      targetType: 'user',
      targetId: 'u-9',
      details: { before: ['viewer'], after: ['trader'] },
    });

    expect(tx.statements.map((s) => s.sql.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'SELECT seq, hash',
      'INSERT INTO audit_events',
      'UPDATE audit_chain_head SET',
    ]);
    expect(entry.seq).toBe('42');
    expect(entry.prevHash).toBe('a'.repeat(64));
    expect(entry.hash).toBe(computeEntryHash(entry, entry.prevHash));
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
      forbidden<Repository<AuditEvent>>('events'),
      forbidden<Repository<AuditChainHead>>('heads'),
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
      );
      rows.push({ ...entry, occurredAt: new Date(entry.occurredAt) });
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
        events as unknown as Repository<AuditEvent>,
        heads as unknown as Repository<AuditChainHead>,
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
    });
    expect(pages).toEqual(['0', String(VERIFY_PAGE_SIZE), String(2 * VERIFY_PAGE_SIZE)]);
  });

  it('accepts an empty log whose head is the genesis', async () => {
    const { service } = fakeRepositories([], { seq: '0', hash: GENESIS_HASH });
    expect(await service.verify()).toEqual({ valid: true, checked: 0, headSeq: '0', headHash: GENESIS_HASH });
  });

  it('names an edited entry on a later page, and stops reading there', async () => {
    const rows = chain(3 * VERIFY_PAGE_SIZE);
    const head = headOf(rows);
    rows[1499] = { ...rows[1499], details: { n: 1 } };
    const { service, pages } = fakeRepositories(rows, head);
    expect(await service.verify()).toEqual({
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
    expect(await service.verify()).toEqual({
      valid: false,
      checked: 4,
      firstInvalid: { id: rows[4].id, seq: '6', reason: 'broken_link' },
    });
  });

  it('reports removed newest entries as a head mismatch at the seq the head names', async () => {
    const rows = chain(10);
    const head = headOf(rows);
    const { service } = fakeRepositories(rows.slice(0, 8), head);
    expect(await service.verify()).toEqual({
      valid: false,
      checked: 8,
      firstInvalid: { id: null, seq: '10', reason: 'head_mismatch' },
    });
  });

  it('reports a head whose hash is not the last entry’s', async () => {
    const rows = chain(5);
    const { service } = fakeRepositories(rows, { seq: '5', hash: 'f'.repeat(64) });
    expect(await service.verify()).toEqual({
      valid: false,
      checked: 5,
      firstInvalid: { id: rows[4].id, seq: '5', reason: 'head_mismatch' },
    });
  });

  it('reports entries beyond the head', async () => {
    const rows = chain(6);
    const { service } = fakeRepositories(rows, headOf(rows.slice(0, 5)));
    expect(await service.verify()).toEqual({
      valid: false,
      checked: 5,
      firstInvalid: { id: rows[5].id, seq: '6', reason: 'head_mismatch' },
    });
  });
});
