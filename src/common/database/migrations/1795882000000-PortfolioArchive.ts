import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Portfolios get a description and can be archived (a soft delete): an archived portfolio keeps
 * its trades and history, refuses new trades and is left out of lists unless asked for.
 */
export class PortfolioArchive1795882000000 implements MigrationInterface {
  name = 'PortfolioArchive1795882000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE portfolios
        ADD COLUMN description varchar(500) NOT NULL DEFAULT '',
        ADD COLUMN archived_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE portfolios DROP COLUMN archived_at, DROP COLUMN description`);
  }
}
