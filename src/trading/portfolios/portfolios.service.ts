import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { assertIfMatch } from '../../common/http/etag';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { AuditService } from '../../security/audit/audit.service';
import type { Principal } from '../../security/auth/principal';
import type { ShareAccess } from '../entities/portfolio-share.entity';
import { TradingEventsPublisher } from '../trading-events.publisher';
import { TradingEvents } from '../trading.events';
import { portfolioTag } from './dto/portfolio.dto';
import { type PortfolioRow, PortfoliosRepository, type Viewer } from './portfolios.repository';

export type { PortfolioRow, PortfolioShareRef } from './portfolios.repository';

/** What `PATCH /portfolios/{id}` may change. */
export interface PortfolioPatch {
  name?: string;
  description?: string;
  baseCurrency?: string;
}

function viewerOf(principal: Principal): Viewer {
  return { userId: principal.userId, seesAll: PortfoliosService.seesAll(principal) };
}

/**
 * Portfolios and who may see them. Every read or write of a portfolio's data goes through
 * {@link requireAccess}: a portfolio the caller may not see does not exist for them (404), in
 * lists and by id alike. The SQL, with the visibility rule, is in {@link PortfoliosRepository}.
 */
@Injectable()
export class PortfoliosService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repo: PortfoliosRepository,
    private readonly audit: AuditService,
    private readonly events: TradingEventsPublisher,
  ) {}

  /** Whether the caller sees every portfolio. */
  static seesAll(principal: Principal): boolean {
    return principal.permissions.has('portfolios:read-all');
  }

  /**
   * The portfolio if the caller may see it, else 404 (never 403: existence is not revealed).
   * Archived portfolios are visible by id. With `lock`, the row is locked FOR UPDATE until the
   * transaction of `manager` ends, which serialises trade ingestion and updates per portfolio.
   */
  async requireAccess(
    principal: Principal,
    portfolioId: string,
    options: { manager?: EntityManager; lock?: boolean } = {},
  ): Promise<PortfolioRow> {
    const portfolio = await this.repo.findVisible(viewerOf(principal), portfolioId, options);
    if (!portfolio) throw AppException.notFound('portfolio');
    return portfolio;
  }

  /**
   * Whether the caller may record trades in a portfolio they can see: its owner, a member of a
   * group it is shared with for writing, or a holder of `trades:write-any`. Seeing every
   * portfolio (`portfolios:read-all`) is not enough. Else 403 (the portfolio is visible). An
   * archived portfolio takes no trades (409 PORTFOLIO_ARCHIVED). Takes the same row lock as
   * {@link requireAccess} with `lock`.
   */
  async requireTradeWriter(principal: Principal, portfolioId: string, manager: EntityManager): Promise<PortfolioRow> {
    const portfolio = await this.requireAccess(principal, portfolioId, { manager, lock: true });
    const writer =
      portfolio.ownerId === principal.userId ||
      principal.permissions.has('trades:write-any') ||
      (await this.repo.isWriteMember(manager, portfolio.id, principal.userId));
    if (!writer) {
      throw new AppException(
        ErrorCode.Forbidden,
        'Recording trades in this portfolio needs its ownership, a share with write access, or trades:write-any.',
      );
    }
    if (portfolio.archivedAt) {
      throw new AppException(
        ErrorCode.PortfolioArchived,
        `This portfolio was archived at ${portfolio.archivedAt.toISOString()}: it keeps its trades and history but takes no new trades.`,
      );
    }
    return portfolio;
  }

  /**
   * Which of several (caller, portfolio) pairs are still visible, in one query, by the same rule
   * as {@link requireAccess}: the live gateway re-checks its open portfolio subscriptions this way.
   * Answers the indexes of the visible pairs.
   */
  visibleAmong(checks: readonly { principal: Principal; portfolioId: string }[]): Promise<Set<number>> {
    return this.repo.visibleAmong(checks.map((c) => ({ viewer: viewerOf(c.principal), portfolioId: c.portfolioId })));
  }

  /**
   * A portfolio by id without an access check, for in-process subscribers that push to callers
   * already checked through {@link requireAccess} (the live gateway's valuation updates).
   */
  findForSubscribers(portfolioId: string): Promise<PortfolioRow | null> {
    return this.repo.findById(portfolioId);
  }

  /** Creates a portfolio owned by the caller; audited in the same transaction. */
  async create(
    principal: Principal,
    data: { name: string; description?: string; baseCurrency: string; allowShort?: boolean },
  ): Promise<PortfolioRow> {
    return this.dataSource.transaction(async (manager) => {
      const portfolio = await this.repo.insert(manager, {
        ownerId: principal.userId,
        name: data.name,
        description: data.description ?? '',
        baseCurrency: data.baseCurrency,
        allowShort: data.allowShort ?? false,
      });
      await this.audit.record(manager, {
        action: 'portfolio.created',
        targetType: 'portfolio',
        targetId: portfolio.id,
        details: { name: portfolio.name, baseCurrency: portfolio.baseCurrency, allowShort: portfolio.allowShort },
      });
      return portfolio;
    });
  }

  /** Portfolios the caller may see, by name; archived ones only with `includeArchived`. */
  async list(
    principal: Principal,
    query: { limit?: number; cursor?: string; includeArchived?: boolean },
  ): Promise<Page<PortfolioRow>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, 'text');
    const rows = await this.repo.listVisible(viewerOf(principal), {
      limit: limit + 1,
      after,
      includeArchived: query.includeArchived ?? false,
    });
    return toPage(
      rows,
      limit,
      (p) => ({ k: p.name.toLowerCase(), id: p.id }),
      (p) => p,
    );
  }

  /**
   * Renames, re-describes or changes the base currency of a portfolio. Owner only (403 for others
   * who can see it). The base currency is what trades are taken to be priced in, so it changes
   * only while the portfolio has no trades (409). With `ifMatch`, a portfolio changed since the
   * caller read it is a 412 and nothing changes. Audited when something changed; emits
   * `portfolio.updated` after commit.
   */
  async update(
    principal: Principal,
    portfolioId: string,
    patch: PortfolioPatch,
    ifMatch?: string,
  ): Promise<PortfolioRow> {
    const changed = await this.dataSource.transaction(async (manager) => {
      const current = await this.requireOwnerForChange(principal, portfolioId, manager, ifMatch);
      if (current.archivedAt) {
        throw new AppException(ErrorCode.PortfolioArchived, 'An archived portfolio cannot be changed.');
      }
      const changes = Object.fromEntries(
        Object.entries(patch).filter(([k, v]) => v !== undefined && current[k as keyof PortfolioPatch] !== v),
      ) as PortfolioPatch;
      if (Object.keys(changes).length === 0) return null;
      if (changes.baseCurrency !== undefined && (await this.repo.hasTrades(manager, portfolioId))) {
        throw new AppException(
          ErrorCode.Conflict,
          'The base currency of a portfolio with trades cannot change: its trades are priced in it.',
          { errors: [{ field: 'baseCurrency', message: 'the portfolio already has trades' }] },
        );
      }
      await this.repo.update(manager, portfolioId, changes);
      const before = Object.fromEntries(Object.keys(changes).map((k) => [k, current[k as keyof PortfolioPatch]]));
      await this.audit.record(manager, {
        action: 'portfolio.updated',
        targetType: 'portfolio',
        targetId: portfolioId,
        details: { before, after: changes },
      });
      return { ownerId: current.ownerId, fields: Object.keys(changes) };
    });
    if (changed) {
      this.events.emit(TradingEvents.PortfolioUpdated, {
        portfolioId,
        ownerId: changed.ownerId,
        change: 'updated',
        fields: changed.fields,
        at: new Date().toISOString(),
      });
    }
    return this.requireAccess(principal, portfolioId);
  }

  /**
   * Archives a portfolio (a soft delete): trades, positions and history stay and stay readable by
   * id; it takes no new trades (409) and leaves lists unless `includeArchived`. Owner only,
   * idempotent (archiving an archived portfolio changes nothing), `If-Match` as for
   * {@link update}. Audited; emits `portfolio.updated` after commit.
   */
  async archive(principal: Principal, portfolioId: string, ifMatch?: string): Promise<void> {
    const archived = await this.dataSource.transaction(async (manager) => {
      const current = await this.requireOwnerForChange(principal, portfolioId, manager, ifMatch);
      if (current.archivedAt) return null;
      await this.repo.archive(manager, portfolioId);
      await this.audit.record(manager, {
        action: 'portfolio.archived',
        targetType: 'portfolio',
        targetId: portfolioId,
        details: { name: current.name },
      });
      return { ownerId: current.ownerId };
    });
    if (archived) {
      this.events.emit(TradingEvents.PortfolioUpdated, {
        portfolioId,
        ownerId: archived.ownerId,
        change: 'archived',
        fields: ['archivedAt'],
        at: new Date().toISOString(),
      });
    }
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
      if (!(await this.repo.groupExists(manager, groupId))) throw AppException.notFound('group');
      const before = await this.repo.lockShare(manager, portfolio.id, groupId);
      if (before === access) return;
      await this.repo.upsertShare(manager, { portfolioId: portfolio.id, groupId, sharedBy: principal.userId, access });
      await this.audit.record(manager, {
        action: 'portfolio.shared',
        targetType: 'portfolio',
        targetId: portfolio.id,
        details: { groupId, access, ...(before ? { previousAccess: before } : {}) },
      });
    });
    return this.requireAccess(principal, portfolioId);
  }

  /** Stops sharing with a group; 404 if it was not shared with it. Owner only, audited. */
  async unshare(principal: Principal, portfolioId: string, groupId: string): Promise<PortfolioRow> {
    await this.dataSource.transaction(async (manager) => {
      const portfolio = await this.requireOwner(principal, portfolioId, manager);
      if (!(await this.repo.deleteShare(manager, portfolio.id, groupId))) throw AppException.notFound('share');
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

  /**
   * The portfolio locked for a change by its owner (403 for others who see it), with its shares
   * (read under the lock, so its ETag is the current one), after the `If-Match` check (412).
   */
  private async requireOwnerForChange(
    principal: Principal,
    portfolioId: string,
    manager: EntityManager,
    ifMatch: string | undefined,
  ): Promise<PortfolioRow> {
    const locked = await this.requireAccess(principal, portfolioId, { manager, lock: true });
    if (locked.ownerId !== principal.userId) {
      throw new AppException(ErrorCode.Forbidden, 'Only the owner of a portfolio can change or archive it.');
    }
    const current = (await this.repo.findById(portfolioId, manager)) ?? locked;
    assertIfMatch(ifMatch, portfolioTag(current));
    return current;
  }
}
