import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { AuditService } from '../../security/audit/audit.service';
import type { Principal } from '../../security/auth/principal';
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
  baseCurrency: string;
  allowShort: boolean;
  /** Last trade seq given (bigint as a string). */
  tradeSeq: string;
  sharedWith: string[];
  shares: PortfolioShareRef[];
  createdAt: Date;
  updatedAt: Date;
}

interface RawPortfolio {
  id: string;
  owner_id: string;
  name: string;
  base_currency: string;
  allow_short: boolean;
  trade_seq: string;
  shared_with: string[] | null;
  shares?: PortfolioShareRef[] | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `p.id, p.owner_id, p.name, p.base_currency, p.allow_short, p.trade_seq, p.created_at, p.updated_at`;
const SHARED_WITH = `ARRAY(SELECT s.group_id FROM portfolio_shares s WHERE s.portfolio_id = p.id ORDER BY s.group_id) AS shared_with,
  COALESCE((SELECT json_agg(json_build_object('groupId', s.group_id, 'access', s.access) ORDER BY s.group_id)
              FROM portfolio_shares s WHERE s.portfolio_id = p.id), '[]') AS shares`;

/**
 * Who sees a portfolio, as SQL over `p` with `$viewAll` (boolean) and `$user` (uuid): its owner,
 * members of a group it is shared with, or holders of `portfolios:read-all`. The one rule, used by
 * the list and by {@link PortfoliosService.requireAccess}.
 */
function visibleTo(viewAll: string, user: string): string {
  return `(${viewAll}::boolean OR p.owner_id = ${user} OR EXISTS (
      SELECT 1 FROM portfolio_shares s JOIN group_members gm ON gm.group_id = s.group_id
       WHERE s.portfolio_id = p.id AND gm.user_id = ${user}))`;
}

function mapRow(r: RawPortfolio): PortfolioRow {
  return {
    id: r.id,
    ownerId: r.owner_id,
    name: r.name,
    baseCurrency: r.base_currency,
    allowShort: r.allow_short,
    tradeSeq: String(r.trade_seq),
    sharedWith: r.shared_with ?? [],
    shares: r.shares ?? [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * Portfolios and who may see them. Every read or write of a portfolio's data goes through
 * {@link requireAccess}: a portfolio the caller may not see does not exist for them (404), in
 * lists and by id alike.
 */
@Injectable()
export class PortfoliosService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** Whether the caller sees every portfolio. */
  static seesAll(principal: Principal): boolean {
    return principal.permissions.has('portfolios:read-all');
  }

  /**
   * The portfolio if the caller may see it, else 404 (never 403: existence is not revealed).
   * With `lock`, the row is locked FOR UPDATE until the transaction of `manager` ends, which
   * serialises trade ingestion per portfolio.
   */
  async requireAccess(
    principal: Principal,
    portfolioId: string,
    options: { manager?: EntityManager; lock?: boolean } = {},
  ): Promise<PortfolioRow> {
    const rows = await this.m(options.manager).query<RawPortfolio[]>(
      `SELECT ${COLUMNS}${options.lock ? '' : `, ${SHARED_WITH}`}
         FROM portfolios p
        WHERE p.id = $1 AND ${visibleTo('$2', '$3')}
        ${options.lock ? 'FOR UPDATE OF p' : ''}`,
      [portfolioId, PortfoliosService.seesAll(principal), principal.userId],
    );
    if (rows.length === 0) throw AppException.notFound('portfolio');
    return mapRow(rows[0]);
  }

  /**
   * Whether the caller may record trades in a portfolio they can see: its owner, a member of a
   * group it is shared with for writing, or a holder of `trades:write-any`. Seeing every
   * portfolio (`portfolios:read-all`) is not enough. Else 403 (the portfolio is visible).
   * Takes the same row lock as {@link requireAccess} with `lock`.
   */
  async requireTradeWriter(principal: Principal, portfolioId: string, manager: EntityManager): Promise<PortfolioRow> {
    const portfolio = await this.requireAccess(principal, portfolioId, { manager, lock: true });
    if (portfolio.ownerId === principal.userId || principal.permissions.has('trades:write-any')) return portfolio;
    const [row] = await manager.query<{ ok: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM portfolio_shares s JOIN group_members gm ON gm.group_id = s.group_id
                       WHERE s.portfolio_id = $1 AND gm.user_id = $2 AND s.access = 'write') AS ok`,
      [portfolio.id, principal.userId],
    );
    if (!row?.ok) {
      throw new AppException(
        ErrorCode.Forbidden,
        'Recording trades in this portfolio needs its ownership, a share with write access, or trades:write-any.',
      );
    }
    return portfolio;
  }

  /**
   * Which of several (caller, portfolio) pairs are still visible, in one query, by the same rule
   * as {@link requireAccess}: the live gateway re-checks its open portfolio subscriptions this way.
   * Answers the indexes of the visible pairs.
   */
  async visibleAmong(checks: readonly { principal: Principal; portfolioId: string }[]): Promise<Set<number>> {
    if (checks.length === 0) return new Set();
    const rows = await this.dataSource.query<{ i: string }[]>(
      `SELECT x.i
         FROM unnest($1::uuid[], $2::uuid[], $3::boolean[]) WITH ORDINALITY AS x(portfolio_id, user_id, view_all, i)
         JOIN portfolios p ON p.id = x.portfolio_id
        WHERE ${visibleTo('x.view_all', 'x.user_id')}`,
      [
        checks.map((c) => c.portfolioId),
        checks.map((c) => c.principal.userId),
        checks.map((c) => PortfoliosService.seesAll(c.principal)),
      ],
    );
    return new Set(rows.map((r) => Number(r.i) - 1));
  }

  /**
   * A portfolio by id without an access check, for in-process subscribers that push to callers
   * already checked through {@link requireAccess} (the live gateway's valuation updates).
   */
  async findForSubscribers(portfolioId: string): Promise<PortfolioRow | null> {
    const rows = await this.dataSource.query<RawPortfolio[]>(
      `SELECT ${COLUMNS}, ${SHARED_WITH} FROM portfolios p WHERE p.id = $1`,
      [portfolioId],
    );
    return rows[0] ? mapRow(rows[0]) : null;
  }

  /** Creates a portfolio owned by the caller; audited in the same transaction. */
  async create(
    principal: Principal,
    data: { name: string; baseCurrency: string; allowShort?: boolean },
  ): Promise<PortfolioRow> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<RawPortfolio[]>(
        `INSERT INTO portfolios (owner_id, name, base_currency, allow_short)
         VALUES ($1, $2, $3, $4)
         RETURNING id, owner_id, name, base_currency, allow_short, trade_seq, created_at, updated_at`,
        [principal.userId, data.name, data.baseCurrency, data.allowShort ?? false],
      );
      const portfolio = mapRow(rows[0]);
      await this.audit.record(manager, {
        action: 'portfolio.created',
        targetType: 'portfolio',
        targetId: portfolio.id,
        details: { name: portfolio.name, baseCurrency: portfolio.baseCurrency, allowShort: portfolio.allowShort },
      });
      return portfolio;
    });
  }

  /** Portfolios the caller may see, by name. */
  async list(principal: Principal, page: { limit?: number; cursor?: string }): Promise<Page<PortfolioRow>> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(page.cursor, 'text');
    const params: unknown[] = [limit + 1, PortfoliosService.seesAll(principal), principal.userId];
    if (after) params.push(after.k, after.id);
    const rows = await this.dataSource.query<RawPortfolio[]>(
      `SELECT ${COLUMNS}, ${SHARED_WITH}
         FROM portfolios p
        WHERE ${visibleTo('$2', '$3')}
          ${after ? 'AND (lower(p.name), p.id) > ($4, $5::uuid)' : ''}
        ORDER BY lower(p.name), p.id
        LIMIT $1`,
      params,
    );
    return toPage(
      rows.map(mapRow),
      limit,
      (p) => ({ k: p.name.toLowerCase(), id: p.id }),
      (p) => p,
    );
  }

  /**
   * Shares a portfolio with a group, or changes the access of a share (idempotent). `read`: the
   * members see it; `write`: members holding `trades:write` may also record trades in it. Only
   * the owner shares: seeing a portfolio, even through `portfolios:read-all`, does not make it
   * yours to give away. Audited when something changed.
   */
  async share(
    principal: Principal,
    portfolioId: string,
    groupId: string,
    access: ShareAccess = 'read',
  ): Promise<PortfolioRow> {
    await this.dataSource.transaction(async (manager) => {
      const portfolio = await this.requireOwner(principal, portfolioId, manager);
      const group = await manager.query<{ id: string }[]>('SELECT id FROM groups WHERE id = $1', [groupId]);
      if (group.length === 0) throw AppException.notFound('group');
      const before = await manager.query<{ access: ShareAccess }[]>(
        'SELECT access FROM portfolio_shares WHERE portfolio_id = $1 AND group_id = $2 FOR UPDATE',
        [portfolio.id, groupId],
      );
      if (before[0]?.access === access) return;
      await manager.query(
        `INSERT INTO portfolio_shares (portfolio_id, group_id, shared_by, access) VALUES ($1, $2, $3, $4)
         ON CONFLICT (portfolio_id, group_id) DO UPDATE SET access = EXCLUDED.access`,
        [portfolio.id, groupId, principal.userId, access],
      );
      await this.audit.record(manager, {
        action: 'portfolio.shared',
        targetType: 'portfolio',
        targetId: portfolio.id,
        details: { groupId, access, ...(before[0] ? { previousAccess: before[0].access } : {}) },
      });
    });
    return this.requireAccess(principal, portfolioId);
  }

  /** Stops sharing with a group; 404 if it was not shared with it. Owner only, audited. */
  async unshare(principal: Principal, portfolioId: string, groupId: string): Promise<PortfolioRow> {
    await this.dataSource.transaction(async (manager) => {
      const portfolio = await this.requireOwner(principal, portfolioId, manager);
      const deleted = await manager.query<{ group_id: string }[]>(
        `DELETE FROM portfolio_shares WHERE portfolio_id = $1 AND group_id = $2 RETURNING group_id`,
        [portfolio.id, groupId],
      );
      if (deleted.length === 0) throw AppException.notFound('share');
      await this.audit.record(manager, {
        action: 'portfolio.unshared',
        targetType: 'portfolio',
        targetId: portfolio.id,
        details: { groupId },
      });
    });
    return this.requireAccess(principal, portfolioId);
  }

  private async requireOwner(principal: Principal, portfolioId: string, manager: EntityManager): Promise<PortfolioRow> {
    const portfolio = await this.requireAccess(principal, portfolioId, { manager, lock: true });
    if (portfolio.ownerId !== principal.userId) {
      throw new AppException(ErrorCode.Forbidden, 'Only the owner of a portfolio can change whom it is shared with.');
    }
    return portfolio;
  }
}
