import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { KeysetPosition } from '../../common/pagination/pagination';
import type { ShareAccess } from '../entities/portfolio-share.entity';

/** A group a portfolio is shared with, and what its members may do. */
export interface PortfolioShareRef {
  groupId: string;
  access: ShareAccess;
}

/** A portfolio as the trading services use it. */
export interface PortfolioRow {
  id: string;
  ownerId: string;
  name: string;
  description: string;
  baseCurrency: string;
  allowShort: boolean;
  /** Last trade seq given (bigint as a string). */
  tradeSeq: string;
  sharedWith: string[];
  shares: PortfolioShareRef[];
  /** Set when archived: no new trades, hidden from lists unless asked for. */
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface RawPortfolio {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  base_currency: string;
  allow_short: boolean;
  trade_seq: string;
  shared_with?: string[] | null;
  shares?: PortfolioShareRef[] | null;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Who is asking: their user id, and whether they see every portfolio (`portfolios:read-all`). */
export interface Viewer {
  userId: string;
  seesAll: boolean;
}

const COLUMNS = `p.id, p.owner_id, p.name, p.description, p.base_currency, p.allow_short, p.trade_seq,
  p.archived_at, p.created_at, p.updated_at`;
const SHARED_WITH = `ARRAY(SELECT s.group_id FROM portfolio_shares s WHERE s.portfolio_id = p.id ORDER BY s.group_id) AS shared_with,
  COALESCE((SELECT json_agg(json_build_object('groupId', s.group_id, 'access', s.access) ORDER BY s.group_id)
              FROM portfolio_shares s WHERE s.portfolio_id = p.id), '[]') AS shares`;

/**
 * Who sees a portfolio, as SQL over `p` with `$viewAll` (boolean) and `$user` (uuid): its owner,
 * members of a group it is shared with, or holders of `portfolios:read-all`. The one rule, used by
 * every read by id, the list and the gateway's re-check.
 */
function visibleTo(viewAll: string, user: string): string {
  return `(${viewAll}::boolean OR p.owner_id = ${user} OR EXISTS (
      SELECT 1 FROM portfolio_shares s JOIN group_members gm ON gm.group_id = s.group_id
       WHERE s.portfolio_id = p.id AND gm.user_id = ${user}))`;
}

function mapPortfolioRow(r: RawPortfolio): PortfolioRow {
  return {
    id: r.id,
    ownerId: r.owner_id,
    name: r.name,
    description: r.description,
    baseCurrency: r.base_currency,
    allowShort: r.allow_short,
    tradeSeq: String(r.trade_seq),
    sharedWith: r.shared_with ?? [],
    shares: r.shares ?? [],
    archivedAt: r.archived_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * Every statement over `portfolios` and `portfolio_shares`, with the visibility rule. Methods
 * take the transaction's manager first where they run inside one (embedded mode has one
 * connection: a query outside the transaction's manager would wait forever).
 */
@Injectable()
export class PortfoliosRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /**
   * The portfolio if the viewer may see it. With `lock`, the row is locked FOR UPDATE (without
   * its shares: FOR UPDATE does not mix with the aggregates) until the transaction ends.
   */
  async findVisible(
    viewer: Viewer,
    portfolioId: string,
    options: { manager?: EntityManager; lock?: boolean } = {},
  ): Promise<PortfolioRow | null> {
    const rows = await this.m(options.manager).query<RawPortfolio[]>(
      `SELECT ${COLUMNS}${options.lock ? '' : `, ${SHARED_WITH}`}
         FROM portfolios p
        WHERE p.id = $1 AND ${visibleTo('$2', '$3')}
        ${options.lock ? 'FOR UPDATE OF p' : ''}`,
      [portfolioId, viewer.seesAll, viewer.userId],
    );
    return rows[0] ? mapPortfolioRow(rows[0]) : null;
  }

  /** A portfolio by id with its shares, no visibility check (callers checked it already). */
  async findById(portfolioId: string, manager?: EntityManager): Promise<PortfolioRow | null> {
    const rows = await this.m(manager).query<RawPortfolio[]>(
      `SELECT ${COLUMNS}, ${SHARED_WITH} FROM portfolios p WHERE p.id = $1`,
      [portfolioId],
    );
    return rows[0] ? mapPortfolioRow(rows[0]) : null;
  }

  /** Whether the user is in a group the portfolio is shared with for writing. */
  async isWriteMember(manager: EntityManager, portfolioId: string, userId: string): Promise<boolean> {
    const [row] = await manager.query<{ ok: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM portfolio_shares s JOIN group_members gm ON gm.group_id = s.group_id
                       WHERE s.portfolio_id = $1 AND gm.user_id = $2 AND s.access = 'write') AS ok`,
      [portfolioId, userId],
    );
    return row?.ok === true;
  }

  /** The indexes of the (viewer, portfolio) pairs that are visible, in one query. */
  async visibleAmong(checks: readonly { viewer: Viewer; portfolioId: string }[]): Promise<Set<number>> {
    if (checks.length === 0) return new Set();
    const rows = await this.dataSource.query<{ i: string }[]>(
      `SELECT x.i
         FROM unnest($1::uuid[], $2::uuid[], $3::boolean[]) WITH ORDINALITY AS x(portfolio_id, user_id, view_all, i)
         JOIN portfolios p ON p.id = x.portfolio_id
        WHERE ${visibleTo('x.view_all', 'x.user_id')}`,
      [checks.map((c) => c.portfolioId), checks.map((c) => c.viewer.userId), checks.map((c) => c.viewer.seesAll)],
    );
    return new Set(rows.map((r) => Number(r.i) - 1));
  }

  async insert(
    manager: EntityManager,
    data: { ownerId: string; name: string; description: string; baseCurrency: string; allowShort: boolean },
  ): Promise<PortfolioRow> {
    const rows = await manager.query<RawPortfolio[]>(
      `INSERT INTO portfolios AS p (owner_id, name, description, base_currency, allow_short)
       VALUES ($1, $2, $3, $4, $5)
       RETURNING ${COLUMNS}`,
      [data.ownerId, data.name, data.description, data.baseCurrency, data.allowShort],
    );
    return mapPortfolioRow(rows[0]);
  }

  /** Changes the given fields and bumps updated_at. */
  async update(
    manager: EntityManager,
    portfolioId: string,
    patch: { name?: string; description?: string; baseCurrency?: string },
  ): Promise<void> {
    await manager.query(
      `UPDATE portfolios SET name = COALESCE($2, name), description = COALESCE($3, description),
              base_currency = COALESCE($4, base_currency), updated_at = now()
        WHERE id = $1`,
      [portfolioId, patch.name ?? null, patch.description ?? null, patch.baseCurrency ?? null],
    );
  }

  /** Archives (a soft delete): trades, positions and history stay. */
  async archive(manager: EntityManager, portfolioId: string): Promise<void> {
    await manager.query(`UPDATE portfolios SET archived_at = now(), updated_at = now() WHERE id = $1`, [portfolioId]);
  }

  /** Whether any trade was ever recorded in the portfolio. */
  async hasTrades(manager: EntityManager, portfolioId: string): Promise<boolean> {
    const [row] = await manager.query<{ ok: boolean }[]>(
      'SELECT EXISTS (SELECT 1 FROM trades WHERE portfolio_id = $1) AS ok',
      [portfolioId],
    );
    return row?.ok === true;
  }

  /**
   * Portfolios the viewer may see, by lower(name) then id, `limit` rows after `after`; archived
   * ones only with `includeArchived`.
   */
  async listVisible(
    viewer: Viewer,
    filter: { limit: number; after?: KeysetPosition; includeArchived: boolean },
  ): Promise<PortfolioRow[]> {
    const params: unknown[] = [filter.limit, viewer.seesAll, viewer.userId, filter.includeArchived];
    if (filter.after) params.push(filter.after.k, filter.after.id);
    const rows = await this.dataSource.query<RawPortfolio[]>(
      `SELECT ${COLUMNS}, ${SHARED_WITH}
         FROM portfolios p
        WHERE ${visibleTo('$2', '$3')}
          AND ($4::boolean OR p.archived_at IS NULL)
          ${filter.after ? 'AND (lower(p.name), p.id) > ($5, $6::uuid)' : ''}
        ORDER BY lower(p.name), p.id
        LIMIT $1`,
      params,
    );
    return rows.map(mapPortfolioRow);
  }

  async groupExists(manager: EntityManager, groupId: string): Promise<boolean> {
    const rows = await manager.query<{ id: string }[]>('SELECT id FROM groups WHERE id = $1', [groupId]);
    return rows.length > 0;
  }

  /** The access of a share, locked until the transaction ends; null when not shared with the group. */
  async lockShare(manager: EntityManager, portfolioId: string, groupId: string): Promise<ShareAccess | null> {
    const rows = await manager.query<{ access: ShareAccess }[]>(
      'SELECT access FROM portfolio_shares WHERE portfolio_id = $1 AND group_id = $2 FOR UPDATE',
      [portfolioId, groupId],
    );
    return rows[0]?.access ?? null;
  }

  async upsertShare(
    manager: EntityManager,
    share: { portfolioId: string; groupId: string; sharedBy: string; access: ShareAccess },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO portfolio_shares (portfolio_id, group_id, shared_by, access) VALUES ($1, $2, $3, $4)
       ON CONFLICT (portfolio_id, group_id) DO UPDATE SET access = EXCLUDED.access`,
      [share.portfolioId, share.groupId, share.sharedBy, share.access],
    );
  }

  /** Removes a share; false when there was none. */
  async deleteShare(manager: EntityManager, portfolioId: string, groupId: string): Promise<boolean> {
    const deleted = await manager.query<{ group_id: string }[]>(
      `DELETE FROM portfolio_shares WHERE portfolio_id = $1 AND group_id = $2 RETURNING group_id`,
      [portfolioId, groupId],
    );
    return deleted.length > 0;
  }
}
