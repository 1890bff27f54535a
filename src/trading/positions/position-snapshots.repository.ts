import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { PositionState, Side } from '../valuation/average-cost';
import { Dec, storeDecimal } from '../valuation/decimal';

/**
 * A snapshot is taken after every SNAPSHOT_INTERVAL-th trade of a symbol (in execution order), so
 * an `asOf` read replays fewer than this many trades per symbol. 16: one snapshot row per 16 trades
 * (about 6 % more rows than trades, one small statement per ingestion), and at most 15 trades
 * replayed per symbol; at 64 an as-of read of 20 symbols parsed and replayed about 600 trades,
 * which under eight concurrent readers took the event loop from every other request. Snapshots
 * taken at an earlier interval (64) stay valid: each sits on a multiple of 16.
 */
export const SNAPSHOT_INTERVAL = 16;

/** A point in a symbol's execution order: the trade's time, then its recording sequence. */
export interface ExecutionPoint {
  symbol: string;
  executedAt: Date;
  seq: bigint;
}

export interface PositionSnapshot extends ExecutionPoint {
  state: PositionState;
}

export interface SnapshotTrade {
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fees: string;
  executedAt: Date;
}

interface SnapshotRow {
  symbol: string;
  through_executed_at: Date;
  through_seq: string;
  quantity: string;
  cost_basis: string;
  realised_pnl: string;
  fees: string;
  trade_count: number;
}

/** The SQL of `position_snapshots` (and of reading the trades that follow a snapshot). */
@Injectable()
export class PositionSnapshotsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** Stores snapshots (a point already stored is replaced: its state is recomputed the same way). */
  async insert(manager: EntityManager, portfolioId: string, snapshots: PositionSnapshot[]): Promise<void> {
    if (snapshots.length === 0) return;
    await manager.query(
      `INSERT INTO position_snapshots
         (portfolio_id, symbol, through_executed_at, through_seq, quantity, cost_basis, realised_pnl, fees, trade_count)
       SELECT $1, u.symbol, u.at, u.seq, u.quantity, u.cost_basis, u.realised_pnl, u.fees, u.trade_count
         FROM unnest($2::text[], $3::timestamptz[], $4::bigint[], $5::numeric[], $6::numeric[], $7::numeric[],
                     $8::numeric[], $9::int[])
              AS u(symbol, at, seq, quantity, cost_basis, realised_pnl, fees, trade_count)
       ON CONFLICT (portfolio_id, symbol, through_executed_at, through_seq) DO UPDATE SET
         quantity = EXCLUDED.quantity, cost_basis = EXCLUDED.cost_basis, realised_pnl = EXCLUDED.realised_pnl,
         fees = EXCLUDED.fees, trade_count = EXCLUDED.trade_count`,
      [
        portfolioId,
        snapshots.map((s) => s.symbol),
        snapshots.map((s) => s.executedAt.toISOString()),
        snapshots.map((s) => s.seq.toString()),
        snapshots.map((s) => storeDecimal(s.state.quantity)),
        snapshots.map((s) => storeDecimal(s.state.costBasis)),
        snapshots.map((s) => storeDecimal(s.state.realisedPnl)),
        snapshots.map((s) => storeDecimal(s.state.fees)),
        snapshots.map((s) => s.state.tradeCount),
      ],
    );
  }

  /** Deletes each symbol's snapshots taken after the given point: a trade now sorts before them. */
  async invalidateAfter(manager: EntityManager, portfolioId: string, points: ExecutionPoint[]): Promise<void> {
    if (points.length === 0) return;
    await manager.query(
      `DELETE FROM position_snapshots s
        USING unnest($2::text[], $3::timestamptz[], $4::bigint[]) AS p(symbol, at, seq)
        WHERE s.portfolio_id = $1 AND s.symbol = p.symbol
          AND (s.through_executed_at, s.through_seq) > (p.at, p.seq)`,
      [
        portfolioId,
        points.map((p) => p.symbol),
        points.map((p) => p.executedAt.toISOString()),
        points.map((p) => p.seq.toString()),
      ],
    );
  }

  /** Per symbol, the latest snapshot whose point is at or before `at` (absent: none). */
  async latestAtOrBefore(
    portfolioId: string,
    symbols: string[],
    at: Date,
    manager?: EntityManager,
  ): Promise<Map<string, PositionSnapshot>> {
    const rows = await this.m(manager).query<SnapshotRow[]>(
      `SELECT s.symbol, ps.through_executed_at, ps.through_seq, ps.quantity, ps.cost_basis, ps.realised_pnl,
              ps.fees, ps.trade_count
         FROM unnest($2::text[]) AS s(symbol)
         JOIN LATERAL (
           SELECT * FROM position_snapshots p
            WHERE p.portfolio_id = $1 AND p.symbol = s.symbol AND p.through_executed_at <= $3
            ORDER BY p.through_executed_at DESC, p.through_seq DESC
            LIMIT 1
         ) ps ON true`,
      [portfolioId, symbols, at],
    );
    return new Map(
      rows.map((r) => [
        r.symbol,
        {
          symbol: r.symbol,
          executedAt: r.through_executed_at,
          seq: BigInt(r.through_seq),
          state: {
            quantity: new Dec(r.quantity),
            costBasis: new Dec(r.cost_basis),
            realisedPnl: new Dec(r.realised_pnl),
            fees: new Dec(r.fees),
            tradeCount: Number(r.trade_count),
            lastExecutedAt: r.through_executed_at,
          },
        },
      ]),
    );
  }

  /**
   * Per symbol, the trades after its start point (all of them without one) and at or before
   * `until`, in execution order, grouped by symbol.
   */
  async tradesAfter(
    portfolioId: string,
    starts: { symbol: string; after: ExecutionPoint | undefined }[],
    until: Date,
    manager?: EntityManager,
  ): Promise<Map<string, SnapshotTrade[]>> {
    const rows = await this.m(manager).query<(SnapshotTrade & { executed_at: Date })[]>(
      `SELECT b.symbol, t.side, t.quantity, t.price, t.fees, t.executed_at
         FROM unnest($2::text[], $3::timestamptz[], $4::bigint[]) WITH ORDINALITY AS b(symbol, at, seq, n)
         JOIN LATERAL (
           SELECT side, quantity, price, fees, executed_at, seq FROM trades
            WHERE portfolio_id = $1 AND symbol = b.symbol
              AND (executed_at, seq) > (b.at, b.seq) AND executed_at <= $5
            ORDER BY executed_at, seq
         ) t ON true
        ORDER BY b.n, t.executed_at, t.seq`,
      [
        portfolioId,
        starts.map((s) => s.symbol),
        starts.map((s) => (s.after ? s.after.executedAt.toISOString() : '-infinity')),
        starts.map((s) => (s.after ? s.after.seq.toString() : '-1')),
        until,
      ],
    );
    const bySymbol = new Map<string, SnapshotTrade[]>();
    for (const r of rows) {
      const list = bySymbol.get(r.symbol) ?? [];
      list.push({
        symbol: r.symbol,
        side: r.side,
        quantity: r.quantity,
        price: r.price,
        fees: r.fees,
        executedAt: r.executed_at,
      });
      bySymbol.set(r.symbol, list);
    }
    return bySymbol;
  }
}
