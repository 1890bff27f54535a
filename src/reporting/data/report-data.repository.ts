import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { RawTrade as RawTradesRow } from '../../trading/trades/trades.repository';
import type { Side } from '../../trading/valuation/average-cost';

/**
 * Read-only SQL behind the report data sources. Every read is bounded by `asOf` on the time a row
 * was *recorded* (trades' `created_at`, prices' `received_at`, events' `occurred_at`), so a
 * re-run with the same `asOf` reads the same rows. Portfolio visibility is decided by the trading
 * module's `PortfoliosService` before any of these is called with portfolio ids.
 */
export interface TradeRow {
  id: string;
  book: string;
  seq: string;
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fees: string;
  executedAt: Date;
  externalId: string | null;
}

/** The trades row as trading declares it, less the two columns reports do not read. */
type RawTrade = Omit<RawTradesRow, 'created_by' | 'created_at'>;

const mapTrade = (r: RawTrade): TradeRow => ({
  id: r.id,
  book: r.portfolio_id,
  seq: String(r.seq),
  symbol: r.symbol,
  side: r.side,
  quantity: r.quantity,
  price: r.price,
  fees: r.fees,
  executedAt: r.executed_at,
  externalId: r.external_id,
});

/** Plain-text trade numeric columns without trailing zeros (numeric(20,8) prints 8 places). */
const NUM = (c: string): string => `trim_scale(${c})::text`;
const TRADE_COLUMNS = `t.id, t.portfolio_id, t.seq, t.symbol, t.side, ${NUM('t.quantity')} AS quantity,
  ${NUM('t.price')} AS price, ${NUM('t.fees')} AS fees, t.executed_at, t.external_id`;

export interface ActivityDayRow {
  userId: string;
  email: string;
  day: string;
  logins: number;
  failures: number;
  lockouts: number;
}

@Injectable()
export class ReportDataRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** Trades of the books executed up to `to` and recorded up to `asOf`, in execution order. */
  async trades(books: string[], to: Date, asOf: Date, manager?: EntityManager): Promise<TradeRow[]> {
    if (books.length === 0) return [];
    const rows = await this.m(manager).query<RawTrade[]>(
      `SELECT ${TRADE_COLUMNS} FROM trades t
        WHERE t.portfolio_id = ANY($1::uuid[]) AND t.executed_at <= $2 AND t.created_at <= $3
        ORDER BY t.executed_at, t.portfolio_id, t.seq`,
      [books, to, asOf],
    );
    return rows.map(mapTrade);
  }

  /**
   * One page of trades for streaming (keyset on executed_at, portfolio, seq), so a CSV of any
   * size is read in bounded memory without holding a cursor open on the (embedded) connection.
   */
  async tradesPage(
    books: string[],
    range: { from: Date; to: Date; asOf: Date },
    after: { executedAt: Date; book: string; seq: string } | null,
    limit: number,
  ): Promise<TradeRow[]> {
    if (books.length === 0) return [];
    const params: unknown[] = [books, range.from, range.to, range.asOf, limit];
    let keyset = '';
    if (after) {
      params.push(after.executedAt, after.book, after.seq);
      keyset = 'AND (t.executed_at, t.portfolio_id, t.seq) > ($6, $7::uuid, $8::bigint)';
    }
    const rows = await this.m().query<RawTrade[]>(
      `SELECT ${TRADE_COLUMNS} FROM trades t
        WHERE t.portfolio_id = ANY($1::uuid[]) AND t.executed_at >= $2 AND t.executed_at <= $3
          AND t.created_at <= $4 ${keyset}
        ORDER BY t.executed_at, t.portfolio_id, t.seq
        LIMIT $5`,
      params,
    );
    return rows.map(mapTrade);
  }

  /**
   * PostgreSQL (cluster mode) only: the same rows as {@link tradesPage}, in the same order, as CSV
   * straight from `COPY (SELECT …) TO STDOUT`, without a header. The columns, values and quoting
   * are those the renderer's json2csv writes for the trades table (every non-null value quoted,
   * `"` doubled, NULL empty, `executedAt` as `toISOString()` prints it), so the file is byte for
   * byte the same and no row is ever parsed in JavaScript. The connection is held until `done`
   * is called, which must be called once whatever happens (with the error, if any, so a broken
   * connection is discarded rather than pooled). COPY takes no bind parameters: the values are
   * quoted by the driver's `escapeLiteral`.
   */
  async copyTradesCsv(
    books: string[],
    range: { from: Date; to: Date; asOf: Date },
  ): Promise<{ stream: Readable & { rowCount: number }; done: (err?: Error) => Promise<void> }> {
    // The pg pool behind TypeORM: COPY needs the driver's own client, which TypeORM does not expose.
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    const client = await pool.connect();
    const lit = (v: string): string => client.escapeLiteral(v);
    const bookList = books.length ? `ARRAY[${books.map(lit).join(', ')}]::uuid[]` : `ARRAY[]::uuid[]`;
    try {
      // A large export may outlast DATABASE_STATEMENT_TIMEOUT_MS; it is a background job that
      // streams with backpressure, so the limit is lifted for this read-only transaction only.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query('SET LOCAL statement_timeout = 0');
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
    const sql = `COPY (
        SELECT t.id, t.portfolio_id,
               to_char(t.executed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               t.symbol, t.side, ${NUM('t.quantity')}, ${NUM('t.price')}, ${NUM('t.fees')}, t.external_id
          FROM trades t
         WHERE t.portfolio_id = ANY(${bookList}) AND t.executed_at >= ${lit(range.from.toISOString())}::timestamptz
           AND t.executed_at <= ${lit(range.to.toISOString())}::timestamptz
           AND t.created_at <= ${lit(range.asOf.toISOString())}::timestamptz
         ORDER BY t.executed_at, t.portfolio_id, t.seq
      ) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)`;
    const stream = client.query(copyTo(sql));
    let released = false;
    const done = async (err?: Error): Promise<void> => {
      if (released) return;
      released = true;
      if (err) {
        client.release(err);
        return;
      }
      try {
        await client.query('COMMIT');
        client.release();
      } catch (e) {
        client.release(e as Error);
        throw e;
      }
    };
    return { stream, done };
  }

  async countTrades(books: string[], range: { from: Date; to: Date; asOf: Date }): Promise<number> {
    if (books.length === 0) return 0;
    const [row] = await this.m().query<{ n: string }[]>(
      `SELECT count(*) AS n FROM trades t
        WHERE t.portfolio_id = ANY($1::uuid[]) AND t.executed_at >= $2 AND t.executed_at <= $3 AND t.created_at <= $4`,
      [books, range.from, range.to, range.asOf],
    );
    return Number(row.n);
  }

  /** Prices of the symbols observed up to `to` and received up to `asOf`. */
  async prices(symbols: string[], to: Date, asOf: Date): Promise<{ symbol: string; price: string; asOf: Date }[]> {
    if (symbols.length === 0) return [];
    const rows = await this.m().query<{ symbol: string; price: string; as_of: Date }[]>(
      `SELECT symbol, ${NUM('price')} AS price, as_of FROM prices
        WHERE symbol = ANY($1::text[]) AND as_of <= $2 AND received_at <= $3
        ORDER BY as_of, symbol`,
      [symbols, to, asOf],
    );
    return rows.map((r) => ({ symbol: r.symbol, price: r.price, asOf: r.as_of }));
  }

  /** Logins, failures and lockouts per user and UTC day in [from, to]. */
  async activityByUserAndDay(from: Date, to: Date): Promise<ActivityDayRow[]> {
    const rows = await this.m().query<
      { user_id: string; email: string; day: string; logins: string; failures: string; lockouts: string }[]
    >(
      `SELECT a.user_id, u.email, to_char(a.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
              count(*) FILTER (WHERE a.type = 'login') AS logins,
              count(*) FILTER (WHERE a.type = 'login_failed') AS failures,
              count(*) FILTER (WHERE a.type = 'account_locked') AS lockouts
         FROM user_activities a JOIN users u ON u.id = a.user_id
        WHERE a.occurred_at >= $1 AND a.occurred_at <= $2
          AND a.type IN ('login', 'login_failed', 'account_locked')
        GROUP BY a.user_id, u.email, day
        ORDER BY day, u.email`,
      [from, to],
    );
    return rows.map((r) => ({
      userId: r.user_id,
      email: r.email,
      day: r.day,
      logins: Number(r.logins),
      failures: Number(r.failures),
      lockouts: Number(r.lockouts),
    }));
  }

  /** Sessions open at `at`, per user. */
  async activeSessions(at: Date): Promise<{ userId: string; email: string; sessions: number }[]> {
    const rows = await this.m().query<{ user_id: string; email: string; n: string }[]>(
      `SELECT s.user_id, u.email, count(*) AS n
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.created_at <= $1 AND (s.revoked_at IS NULL OR s.revoked_at > $1)
          AND s.absolute_expires_at > $1
        GROUP BY s.user_id, u.email ORDER BY u.email`,
      [at],
    );
    return rows.map((r) => ({ userId: r.user_id, email: r.email, sessions: Number(r.n) }));
  }

  /** Per role: users holding it (created up to `asOf`), how many are active and how many have MFA on. */
  async roleCoverage(asOf: Date): Promise<{ role: string; users: number; active: number; mfa: number }[]> {
    const rows = await this.m().query<{ role: string; users: string; active: string; mfa: string }[]>(
      `SELECT r.role, count(*) AS users,
              count(*) FILTER (WHERE u.status = 'active') AS active,
              count(*) FILTER (WHERE m.activated_at IS NOT NULL AND m.activated_at <= $1) AS mfa
         FROM users u CROSS JOIN LATERAL unnest(u.roles) AS r(role)
         LEFT JOIN mfa_totp m ON m.user_id = u.id
        WHERE u.created_at <= $1
        GROUP BY r.role ORDER BY r.role`,
      [asOf],
    );
    return rows.map((r) => ({ role: r.role, users: Number(r.users), active: Number(r.active), mfa: Number(r.mfa) }));
  }

  /** Users and their roles, for the access review. */
  async accessReview(asOf: Date): Promise<{ email: string; status: string; roles: string[] }[]> {
    return this.m().query(`SELECT email, status, roles FROM users WHERE created_at <= $1 ORDER BY email`, [asOf]);
  }

  async apiKeys(
    asOf: Date,
  ): Promise<
    { name: string; prefix: string; owner: string; createdAt: Date; lastUsedAt: Date | null; revoked: boolean }[]
  > {
    const rows = await this.m().query<
      { name: string; prefix: string; owner: string; created_at: Date; last_used_at: Date | null; revoked: boolean }[]
    >(
      `SELECT k.name, k.prefix, u.email AS owner, k.created_at, k.last_used_at,
              (k.revoked_at IS NOT NULL AND k.revoked_at <= $1) AS revoked
         FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.created_at <= $1 ORDER BY k.created_at, k.prefix`,
      [asOf],
    );
    return rows.map((r) => ({
      name: r.name,
      prefix: r.prefix,
      owner: r.owner,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      revoked: r.revoked,
    }));
  }

  async securityEventsByType(from: Date, to: Date): Promise<{ type: string; severity: string; count: number }[]> {
    const rows = await this.m().query<{ type: string; severity: string; n: string }[]>(
      `SELECT type, severity, count(*) AS n FROM security_events
        WHERE occurred_at >= $1 AND occurred_at <= $2 GROUP BY type, severity ORDER BY type, severity`,
      [from, to],
    );
    return rows.map((r) => ({ type: r.type, severity: r.severity, count: Number(r.n) }));
  }

  async auditEntries(asOf: Date): Promise<number> {
    const [row] = await this.m().query<{ n: string }[]>(
      `SELECT count(*) AS n FROM audit_events WHERE occurred_at <= $1`,
      [asOf],
    );
    return Number(row.n);
  }

  /** A user's current status, email, roles and group-granted permissions (scheduled runs act with these). */
  async ownerAccess(
    userId: string,
  ): Promise<{ email: string; status: string; roles: string[]; groupPermissions: string[] } | null> {
    const rows = await this.m().query<
      { email: string; status: string; roles: string[]; group_permissions: string[] }[]
    >(
      `SELECT u.email, u.status, u.roles,
              ARRAY(SELECT DISTINCT unnest(g.permissions) FROM group_members gm JOIN groups g ON g.id = gm.group_id
                     WHERE gm.user_id = u.id) AS group_permissions
         FROM users u WHERE u.id = $1`,
      [userId],
    );
    if (rows.length === 0) return null;
    const r = rows[0];
    return { email: r.email, status: r.status, roles: r.roles, groupPermissions: r.group_permissions ?? [] };
  }
}
