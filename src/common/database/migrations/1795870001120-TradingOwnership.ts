import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Trades and prices are owned actions. A share names its access: `read` (members see the
 * portfolio) or `write` (members holding `trades:write` may also record trades in it). Shares made
 * before this migration let members with `trades:write` record trades, so they become `write`;
 * new shares default to `read`. Prices record who published them (`created_by`, as trades do).
 */
export class TradingOwnership1795870001120 implements MigrationInterface {
  name = 'TradingOwnership1795870001120';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE portfolio_shares ADD COLUMN access text NOT NULL DEFAULT 'write'`);
    await q.query(`ALTER TABLE portfolio_shares ALTER COLUMN access SET DEFAULT 'read'`);
    await q.query(
      `ALTER TABLE portfolio_shares ADD CONSTRAINT portfolio_shares_access_check CHECK (access IN ('read', 'write'))`,
    );
    await q.query(`ALTER TABLE prices ADD COLUMN created_by uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE prices DROP COLUMN created_by`);
    await q.query(`ALTER TABLE portfolio_shares DROP COLUMN access`);
  }
}
