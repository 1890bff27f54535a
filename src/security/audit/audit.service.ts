import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { RequestContexts } from '../../common/http/request-context';
import { DEFAULT_PAGE_SIZE, decodeCursor, type Page, toPage } from '../../common/pagination/pagination';
import { type AuditEntry, ChainVerifier, GENESIS_HASH, sealAuditEntry } from './audit-chain';
import { AuditChainKeys } from './audit-chain-keys';
import { type AuditRecord, toUnsealedEntry } from './audit-record';
import { AuditRepository } from './audit.repository';
import type { AuditEventQueryDto } from './dto/audit-event-query.dto';
import { type AuditEventDto, mapAuditEvent } from './dto/audit-event.dto';
import type { AuditVerificationDto } from './dto/audit-verification.dto';

export type { AuditRecord } from './audit-record';

/** Rows read per query while verifying: bounded memory, and short queries on the one embedded connection. */
export const VERIFY_PAGE_SIZE = 1000;

/**
 * The tamper-evident audit log: appends hash-chained entries and reads and verifies them.
 *
 * Appends are serialised by a row lock on `audit_chain_head`, taken inside the caller's
 * transaction and held until it ends: keep `record` near the end of a transaction, after the
 * work that may fail, so the lock is held briefly.
 */
@Injectable()
export class AuditService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: AuditRepository,
    private readonly keys: AuditChainKeys,
  ) {}

  /**
   * A log written before the chain was keyed ends with a plain SHA-256 entry: append one keyed
   * entry after it (`audit.chain_keyed`), whose MAC covers that last plain hash. From then on
   * the chain always ends keyed, so a log rewritten without the key (plain hashes recomputed
   * throughout) fails verification. Checked under the head lock: one instance does it.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const head = await this.repository.lockHeadWithKeyVersion(manager);
      if (!head || head.seq === '0' || Number(head.key_version ?? 0) > 0) return;
      const { version } = this.keys.current;
      await this.record(manager, {
        action: 'audit.chain_keyed',
        targetType: 'audit_chain',
        details: { keyVersion: version, scheme: 'hmac-sha256', unkeyedEntries: head.seq },
      });
      this.logger.log(`audit chain keyed from entry ${BigInt(head.seq) + 1n} (key version ${version})`);
    });
  }

  /**
   * Appends an entry inside the caller's transaction: it commits or rolls back with the change it
   * records. `manager` must be a transaction's manager (`dataSource.transaction(m => ...)`); every
   * query goes through it, since in embedded mode the transaction holds the only connection.
   */
  async record(manager: EntityManager, record: AuditRecord): Promise<AuditEventDto> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditService.record needs the EntityManager of an open transaction; use recordAlone otherwise');
    }
    const context = RequestContexts.current();
    const id = randomUUID();

    const head = await this.repository.lockHead(manager);
    if (!head) throw new Error('audit_chain_head has no row: is migration AuditLog1795870000100 applied?');
    const seq = (BigInt(head.seq) + 1n).toString();
    // Taken under the lock, so entries are in time order along the chain (on one clock).
    const entry = sealAuditEntry(
      toUnsealedEntry(record, context, { id, seq, occurredAt: new Date() }),
      head.hash,
      this.keys.current,
    );

    await this.repository.append(manager, entry);
    return { ...entry, keyVersion: entry.keyVersion ?? 0 };
  }

  /** Appends an entry in a transaction of its own: for failures and denials, where nothing else changes. */
  recordAlone(record: AuditRecord): Promise<AuditEventDto> {
    return this.dataSource.transaction((manager) => this.record(manager, record));
  }

  /** Entries matching every given filter, newest first (keyset on `seq`). */
  async list(query: AuditEventQueryDto): Promise<Page<AuditEventDto>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, 'seq');

    const rows = await this.repository.listPage(
      {
        ...query,
        from: query.from !== undefined ? instant('from', query.from) : undefined,
        to: query.to !== undefined ? instant('to', query.to) : undefined,
      },
      after?.k,
      limit,
    );
    return toPage(rows, limit, (row) => ({ k: String(row.seq), id: row.id }), mapAuditEvent);
  }

  /**
   * Verifies the whole chain, oldest first, page by page, then that it ends where the head row
   * says (which catches removal of the newest entries) and that nothing lies beyond the head.
   * Entries appended while it runs are left for the next verification. Keyed entries are checked
   * under their key version, unkeyed ones (written before the chain was keyed) as plain SHA-256;
   * `segments` says which scheme each run of entries used.
   */
  async verify(): Promise<AuditVerificationDto> {
    // Read first: every entry up to this head has committed (appends move the head in their transaction).
    const head = await this.repository.head();
    if (!head) throw new Error('audit_chain_head has no row: is migration AuditLog1795870000100 applied?');
    const headSeq = String(head.seq);

    const verifier = new ChainVerifier(GENESIS_HASH, (version) => this.keys.key(version));
    let last: AuditEntry | undefined;
    let afterSeq = '0';
    for (;;) {
      const rows = await this.repository.chainPage(afterSeq, headSeq, VERIFY_PAGE_SIZE);
      for (const row of rows) {
        const entry = mapAuditEvent(row);
        const failure = verifier.push(entry);
        if (failure) {
          return {
            valid: false,
            checked: failure.checked,
            firstInvalid: { id: failure.firstBadId, seq: failure.firstBadSeq, reason: failure.reason },
            segments: verifier.segments,
          };
        }
        last = entry;
      }
      if (rows.length < VERIFY_PAGE_SIZE) break;
      afterSeq = String(rows[rows.length - 1].seq);
    }

    const lastSeq = last?.seq ?? '0';
    const lastHash = last?.hash ?? GENESIS_HASH;
    if (lastSeq !== headSeq || lastHash !== head.hash) {
      // The entry the head names is gone (null id), or is not the one the head recorded.
      const id = lastSeq === headSeq ? (last?.id ?? null) : null;
      return {
        valid: false,
        checked: verifier.checked,
        firstInvalid: { id, seq: headSeq, reason: 'head_mismatch' },
        segments: verifier.segments,
      };
    }
    if (last && verifier.lastKeyVersion === 0) {
      // Every entry since the chain was keyed is keyed, and start-up seals an unkeyed log with a
      // keyed entry: an unkeyed head means the whole log was rewritten without the key.
      return {
        valid: false,
        checked: verifier.checked,
        firstInvalid: { id: last.id, seq: last.seq, reason: 'unkeyed_head' },
        segments: verifier.segments,
      };
    }

    const beyond = await this.repository.firstBeyondHead();
    if (beyond) {
      return {
        valid: false,
        checked: verifier.checked,
        firstInvalid: { id: beyond.id, seq: String(beyond.seq), reason: 'head_mismatch' },
        segments: verifier.segments,
      };
    }
    return { valid: true, checked: verifier.checked, headSeq, headHash: head.hash, segments: verifier.segments };
  }
}

/** A validated ISO 8601 query value as an instant; a date alone is midnight UTC. */
function instant(field: string, value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw AppException.validation([{ field, message: `${field} is not a valid date-time` }]);
  }
  return date;
}
