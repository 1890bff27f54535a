import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Position snapshots, so `?asOf=` never replays a whole history: the average-cost state of one
 * symbol in one portfolio right after every SNAPSHOT_INTERVAL-th trade of that symbol in execution
 * order, at the point (`through_executed_at`, `through_seq`) of that trade. Written in the
 * transaction that records the trades; a trade recorded out of order deletes the snapshots of its
 * symbol after its own point and writes them again. The state's `last_executed_at` is the point's
 * time, so it is not stored twice.
 *
 * Portfolios holding trades from before this migration have no snapshots until their next
 * out-of-order trade per symbol; an `asOf` read of them replays from the start as before.
 */
export class PositionSnapshots1795870001200 implements MigrationInterface {
  name = 'PositionSnapshots1795870001200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE position_snapshots (
        portfolio_id uuid NOT NULL,
        symbol varchar(32) NOT NULL,
        through_executed_at timestamptz NOT NULL,
        through_seq bigint NOT NULL,
        quantity numeric NOT NULL,
        cost_basis numeric NOT NULL,
        realised_pnl numeric NOT NULL,
        fees numeric NOT NULL,
        trade_count integer NOT NULL,
        CONSTRAINT position_snapshots_pkey PRIMARY KEY (portfolio_id, symbol, through_executed_at, through_seq),
        CONSTRAINT position_snapshots_portfolio_id_fkey FOREIGN KEY (portfolio_id)
          REFERENCES portfolios (id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS position_snapshots`);
  }
}
