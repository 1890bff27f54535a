import { Injectable } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { AuditService } from '../../security/audit/audit.service';
import type { Principal } from '../../security/auth/principal';
import { PortfoliosService, type PortfolioRow } from '../../trading/portfolios/portfolios.service';
import { Dec, formatDecimal } from '../../trading/valuation/decimal';
import { computePerformance, type PerformanceTrade } from '../calc/performance';
import { positionsAt } from '../calc/positions-at';
import { computeRisk } from '../calc/risk';
import { DATA_SOURCES, type DataSourceKey } from './data-sources';
import type { ParamValues } from './parameters';
import { ReportDataRepository, type TradeRow } from './report-data.repository';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

/** What every renderer gets: the same object is the JSON file. */
export interface ReportData {
  template: string;
  title: string;
  asOf: string;
  parameters: ParamValues;
  summary: Row;
  tables: Record<string, Row[]>;
}

export interface ResolvedRange {
  from: Date;
  to: Date;
  asOf: Date;
}

const DAY_MS = 86_400_000;
const dec = (d: Dec | null): string | null => (d === null ? null : formatDecimal(d));
const toPerf = (t: TradeRow): PerformanceTrade => t;

/**
 * Computes report data from what is stored, as of a stated time, for a caller: trading data only
 * from portfolios the caller may read (the trading module's one visibility rule), security data
 * only with the permissions the data source names.
 */
@Injectable()
export class ReportDataService {
  constructor(
    private readonly repo: ReportDataRepository,
    private readonly portfolios: PortfoliosService,
    private readonly audit: AuditService,
  ) {}

  /** 403 unless the caller holds what the data source reads. */
  requireReadable(principal: Principal, source: DataSourceKey): void {
    const missing = DATA_SOURCES[source].permissions.filter((p) => !principal.permissions.has(p));
    if (missing.length > 0) {
      throw new AppException(ErrorCode.Forbidden, `This report needs the permissions ${missing.join(', ')}.`, {
        extensions: { missing },
      });
    }
  }

  static range(params: ParamValues, asOf: Date): ResolvedRange {
    const to = params.to ? new Date(params.to) : asOf;
    const from = params.from ? new Date(params.from) : new Date(to.getTime() - 30 * DAY_MS);
    return { from, to, asOf };
  }

  /** The portfolios a report covers: the one named (404 if not visible) or every visible one. */
  async books(principal: Principal, params: ParamValues): Promise<PortfolioRow[]> {
    if (typeof params.portfolioId === 'string')
      return [await this.portfolios.requireAccess(principal, params.portfolioId)];
    const all: PortfolioRow[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.portfolios.list(principal, { limit: 200, cursor });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all.sort((a, b) => a.id.localeCompare(b.id));
  }

  async build(principal: Principal, source: DataSourceKey, params: ParamValues, asOf: Date): Promise<ReportData> {
    this.requireReadable(principal, source);
    const range = ReportDataService.range(params, asOf);
    const spec = DATA_SOURCES[source];
    const base = { template: source, title: spec.title, asOf: asOf.toISOString(), parameters: params };
    switch (source) {
      case 'trading-performance':
        return { ...base, ...(await this.performance(principal, params, range)) };
      case 'portfolio-summary':
        return { ...base, ...(await this.summary(principal, params, range)) };
      case 'risk':
        return { ...base, ...(await this.risk(principal, params, range)) };
      case 'user-activity':
        return { ...base, ...(await this.activity(range)) };
      case 'security-compliance':
        return { ...base, ...(await this.security(range)) };
      case 'trades':
        return { ...base, ...(await this.tradeList(principal, params, range)) };
    }
  }

  private async performance(principal: Principal, params: ParamValues, range: ResolvedRange) {
    const books = await this.books(principal, params);
    const shorts = new Set(books.filter((b) => b.allowShort).map((b) => b.id));
    const trades = await this.repo.trades(
      books.map((b) => b.id),
      range.to,
      range.asOf,
    );
    const prices = await this.repo.prices([...new Set(trades.map((t) => t.symbol))], range.to, range.asOf);
    const p = computePerformance({
      trades: trades.map(toPerf),
      prices,
      from: range.from,
      to: range.to,
      riskFreeRate: new Dec(params.riskFreeRate ?? '0'),
      capital: params.capital ? new Dec(params.capital) : null,
      allowShort: (book) => shorts.has(book),
    });
    return {
      summary: {
        trades: p.trades,
        tradedNotional: dec(p.tradedNotional),
        fees: dec(p.fees),
        realisedPnl: dec(p.realisedPnl),
        unrealisedPnl: dec(p.unrealisedPnl),
        totalPnl: dec(p.totalPnl),
        capital: dec(p.capital),
        totalReturn: dec(p.totalReturn),
        closingTrades: p.closingTrades,
        wins: p.wins,
        losses: p.losses,
        winRate: dec(p.winRate),
        profitFactor: dec(p.profitFactor),
        payoffRatio: dec(p.payoffRatio),
        volatility: dec(p.volatility),
        sharpe: dec(p.sharpe),
        sortino: dec(p.sortino),
        maxDrawdown: dec(p.maxDrawdown.value),
        maxDrawdownRatio: dec(p.maxDrawdown.ratio),
        maxDrawdownPeak: p.maxDrawdown.peakDate,
        maxDrawdownTrough: p.maxDrawdown.troughDate,
        maxDrawdownRecovery: p.maxDrawdown.recoveryDate,
        turnover: dec(p.turnover),
      },
      tables: {
        bySymbol: p.bySymbol.map((s) => ({
          symbol: s.symbol,
          trades: s.trades,
          tradedNotional: dec(s.tradedNotional),
          fees: dec(s.fees),
          realisedPnl: dec(s.realisedPnl),
          unrealisedPnl: dec(s.unrealisedPnl),
          totalPnl: dec(s.totalPnl),
        })),
        byMonth: p.byMonth.map((m) => ({
          month: m.month,
          trades: m.trades,
          fees: dec(m.fees),
          realisedPnl: dec(m.realisedPnl),
          pnl: dec(m.pnl),
          return: dec(m.return),
        })),
        daily: p.daily.map((d) => ({ date: d.date, pnl: dec(d.pnl), equity: dec(d.equity), return: dec(d.return) })),
      },
    };
  }

  private async positions(principal: Principal, params: ParamValues, range: ResolvedRange) {
    const books = await this.books(principal, params);
    const shorts = new Set(books.filter((b) => b.allowShort).map((b) => b.id));
    // Positions as they stood at the end of the period, from trades recorded by asOf.
    const at = range.to < range.asOf ? range.to : range.asOf;
    const trades = await this.repo.trades(
      books.map((b) => b.id),
      at,
      range.asOf,
    );
    const prices = await this.repo.prices([...new Set(trades.map((t) => t.symbol))], at, range.asOf);
    return { books, trades, positions: positionsAt(trades.map(toPerf), prices, (b) => shorts.has(b)) };
  }

  private async summary(principal: Principal, params: ParamValues, range: ResolvedRange) {
    const { books, trades, positions } = await this.positions(principal, params, range);
    let marketValue = new Dec(0);
    let costBasis = new Dec(0);
    let unrealised = new Dec(0);
    let realised = new Dec(0);
    let gross = new Dec(0);
    const unpriced: string[] = [];
    for (const p of positions) {
      realised = realised.plus(p.realisedPnl);
      if (p.quantity.isZero()) continue;
      if (p.marketValue === null) {
        unpriced.push(p.symbol);
        continue;
      }
      marketValue = marketValue.plus(p.marketValue);
      costBasis = costBasis.plus(p.costBasis);
      unrealised = unrealised.plus(p.unrealisedPnl!);
      gross = gross.plus(p.marketValue.abs());
    }
    const flows = new Map(books.map((b) => [b.id, { bought: new Dec(0), sold: new Dec(0), fees: new Dec(0) }]));
    for (const t of trades) {
      if (t.executedAt < range.from) continue;
      const f = flows.get(t.book)!;
      const notional = new Dec(t.quantity).times(t.price);
      if (t.side === 'buy') f.bought = f.bought.plus(notional);
      else f.sold = f.sold.plus(notional);
      f.fees = f.fees.plus(t.fees);
    }
    return {
      summary: {
        portfolios: books.length,
        openPositions: positions.filter((p) => !p.quantity.isZero()).length,
        marketValue: dec(marketValue),
        costBasis: dec(costBasis),
        unrealisedPnl: dec(unrealised),
        realisedPnl: dec(realised),
        unpricedSymbols: [...new Set(unpriced)].sort().join(' '),
      },
      tables: {
        positions: positions.map((p) => ({
          portfolioId: p.book,
          symbol: p.symbol,
          quantity: dec(p.quantity),
          averageCost: dec(p.averageCost),
          price: dec(p.price),
          marketValue: dec(p.marketValue),
          weight: p.marketValue === null || gross.isZero() ? null : dec(p.marketValue.abs().dividedBy(gross)),
          unrealisedPnl: dec(p.unrealisedPnl),
          realisedPnl: dec(p.realisedPnl),
        })),
        cashFlows: [...flows.entries()].map(([portfolioId, f]) => ({
          portfolioId,
          bought: dec(f.bought),
          sold: dec(f.sold),
          fees: dec(f.fees),
          net: dec(f.sold.minus(f.bought).minus(f.fees)),
        })),
      },
    };
  }

  private async risk(principal: Principal, params: ParamValues, range: ResolvedRange) {
    const { positions } = await this.positions(principal, params, range);
    const r = computeRisk(
      positions
        .filter((p) => p.marketValue !== null)
        .map((p) => ({
          book: p.book,
          symbol: p.symbol,
          quantity: p.quantity,
          marketValue: p.marketValue!,
          unrealisedPnl: p.unrealisedPnl!,
        })),
      typeof params.top === 'number' ? params.top : 10,
    );
    return {
      summary: {
        long: dec(r.long),
        short: dec(r.short),
        gross: dec(r.gross),
        net: dec(r.net),
        positions: r.positions,
        herfindahl: dec(r.herfindahl),
        effectivePositions: dec(r.effectivePositions),
      },
      tables: {
        top: r.top.map((p) => ({
          portfolioId: p.book,
          symbol: p.symbol,
          marketValue: dec(p.marketValue),
          weight: dec(p.weight),
        })),
        largestLosses: r.largestLosses.map((p) => ({
          portfolioId: p.book,
          symbol: p.symbol,
          marketValue: dec(p.marketValue),
          unrealisedPnl: dec(p.unrealisedPnl),
        })),
      },
    };
  }

  private async activity(range: ResolvedRange) {
    const to = range.to < range.asOf ? range.to : range.asOf;
    const rows = await this.repo.activityByUserAndDay(range.from, to);
    const sessions = await this.repo.activeSessions(to);
    const sum = (k: 'logins' | 'failures' | 'lockouts') => rows.reduce((a, r) => a + r[k], 0);
    return {
      summary: {
        logins: sum('logins'),
        failures: sum('failures'),
        lockouts: sum('lockouts'),
        activeSessions: sessions.reduce((a, s) => a + s.sessions, 0),
      },
      tables: {
        byUserAndDay: rows.map((r) => ({
          day: r.day,
          email: r.email,
          logins: r.logins,
          failures: r.failures,
          lockouts: r.lockouts,
        })),
        activeSessions: sessions.map((s) => ({ email: s.email, sessions: s.sessions })),
      },
    };
  }

  private async security(range: ResolvedRange) {
    const to = range.to < range.asOf ? range.to : range.asOf;
    const roles = await this.repo.roleCoverage(range.asOf);
    const users = await this.repo.accessReview(range.asOf);
    const keys = await this.repo.apiKeys(range.asOf);
    const events = await this.repo.securityEventsByType(range.from, to);
    const lockouts = (await this.repo.activityByUserAndDay(range.from, to)).reduce((a, r) => a + r.lockouts, 0);
    const verification = await this.audit.verify();
    const withMfa = roles.length === 0 ? 0 : null;
    void withMfa;
    const ratio = (n: number, d: number): string | null => (d === 0 ? null : dec(new Dec(n).dividedBy(d)));
    return {
      summary: {
        users: users.length,
        mfaCoverage: ratio(
          roles.reduce((a, r) => a + r.mfa, 0),
          roles.reduce((a, r) => a + r.users, 0),
        ),
        apiKeys: keys.filter((k) => !k.revoked).length,
        lockouts,
        auditEntries: await this.repo.auditEntries(range.asOf),
        auditChainValid: verification.valid,
      },
      tables: {
        mfaByRole: roles.map((r) => ({ ...r, coverage: ratio(r.mfa, r.users) })),
        accessReview: users.map((u) => ({ email: u.email, status: u.status, roles: [...u.roles].sort().join(' ') })),
        apiKeys: keys.map((k) => ({
          name: k.name,
          prefix: k.prefix,
          owner: k.owner,
          createdAt: k.createdAt.toISOString(),
          ageDays: Math.floor((range.asOf.getTime() - k.createdAt.getTime()) / DAY_MS),
          lastUsedAt: k.lastUsedAt && k.lastUsedAt <= range.asOf ? k.lastUsedAt.toISOString() : null,
          revoked: k.revoked,
        })),
        securityEvents: events,
      },
    };
  }

  private async tradeList(principal: Principal, params: ParamValues, range: ResolvedRange) {
    const books = (await this.books(principal, params)).map((b) => b.id);
    const rows: Row[] = [];
    for await (const page of this.tradePages(books, range)) rows.push(...page);
    return { summary: { trades: rows.length }, tables: { trades: rows } };
  }

  /** Trades of the period in pages of `size` rows: the CSV renderer streams these. */
  async *tradePages(books: string[], range: ResolvedRange, size = 5000): AsyncGenerator<Row[]> {
    let after: { executedAt: Date; book: string; seq: string } | null = null;
    for (;;) {
      const page = await this.repo.tradesPage(books, range, after, size);
      if (page.length === 0) return;
      yield page.map((t) => ({
        id: t.id,
        portfolioId: t.book,
        executedAt: t.executedAt.toISOString(),
        symbol: t.symbol,
        side: t.side,
        quantity: t.quantity,
        price: t.price,
        fees: t.fees,
        externalId: t.externalId,
      }));
      const last = page[page.length - 1];
      after = { executedAt: last.executedAt, book: last.book, seq: last.seq };
      if (page.length < size) return;
    }
  }
}
