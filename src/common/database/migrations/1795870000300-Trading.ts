import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Trading data (TradingModule): instruments, portfolios and their group shares, trades, prices,
 * the positions maintained as trades arrive, and stored answers for `Idempotency-Key` retries.
 *
 * Amounts are `numeric`: trades and prices as numeric(20,8) (12 integer and 8 fraction digits);
 * maintained positions without a scale, so the calculator's exact state round-trips unchanged.
 */
export class Trading1795870000300 implements MigrationInterface {
  name = 'Trading1795870000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE instruments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        symbol varchar(32) NOT NULL,
        asset_class text NOT NULL DEFAULT 'unclassified',
        currency char(3),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT instruments_symbol_key UNIQUE (symbol),
        CONSTRAINT instruments_asset_class_check CHECK (asset_class IN
          ('unclassified', 'equity', 'etf', 'fund', 'bond', 'fx', 'crypto', 'commodity', 'derivative', 'cash')),
        CONSTRAINT instruments_currency_check CHECK (currency ~ '^[A-Z]{3}$')
      )`);

    await q.query(`
      CREATE TABLE portfolios (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL,
        name varchar(100) NOT NULL,
        base_currency char(3) NOT NULL,
        allow_short boolean NOT NULL DEFAULT false,
        trade_seq bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT portfolios_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE RESTRICT,
        CONSTRAINT portfolios_base_currency_check CHECK (base_currency ~ '^[A-Z]{3}$')
      )`);
    await q.query(`CREATE INDEX portfolios_owner_idx ON portfolios (owner_id)`);
    await q.query(`CREATE INDEX portfolios_name_idx ON portfolios (lower(name), id)`);

    await q.query(`
      CREATE TABLE portfolio_shares (
        portfolio_id uuid NOT NULL,
        group_id uuid NOT NULL,
        shared_by uuid,
        shared_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (portfolio_id, group_id),
        CONSTRAINT portfolio_shares_portfolio_id_fkey FOREIGN KEY (portfolio_id)
          REFERENCES portfolios (id) ON DELETE CASCADE,
        CONSTRAINT portfolio_shares_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX portfolio_shares_group_idx ON portfolio_shares (group_id)`);

    // seq: per-portfolio recording order, the tie-breaker between trades executed at the same time.
    await q.query(`
      CREATE TABLE trades (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        portfolio_id uuid NOT NULL,
        seq bigint NOT NULL,
        symbol varchar(32) NOT NULL,
        side text NOT NULL,
        quantity numeric(20, 8) NOT NULL,
        price numeric(20, 8) NOT NULL,
        fees numeric(20, 8) NOT NULL DEFAULT 0,
        executed_at timestamptz NOT NULL,
        external_id varchar(128),
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trades_portfolio_id_fkey FOREIGN KEY (portfolio_id) REFERENCES portfolios (id) ON DELETE CASCADE,
        CONSTRAINT trades_symbol_fkey FOREIGN KEY (symbol) REFERENCES instruments (symbol),
        CONSTRAINT trades_side_check CHECK (side IN ('buy', 'sell')),
        CONSTRAINT trades_quantity_check CHECK (quantity > 0),
        CONSTRAINT trades_price_check CHECK (price >= 0),
        CONSTRAINT trades_fees_check CHECK (fees >= 0),
        CONSTRAINT trades_portfolio_external_id_key UNIQUE (portfolio_id, external_id)
      )`);
    await q.query(`CREATE INDEX trades_portfolio_symbol_idx ON trades (portfolio_id, symbol, executed_at, seq)`);
    await q.query(`CREATE INDEX trades_portfolio_executed_idx ON trades (portfolio_id, executed_at, seq)`);

    await q.query(`
      CREATE TABLE prices (
        symbol varchar(32) NOT NULL,
        as_of timestamptz NOT NULL,
        price numeric(20, 8) NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT prices_pkey PRIMARY KEY (symbol, as_of),
        CONSTRAINT prices_symbol_fkey FOREIGN KEY (symbol) REFERENCES instruments (symbol),
        CONSTRAINT prices_price_check CHECK (price >= 0)
      )`);

    await q.query(`
      CREATE TABLE positions (
        portfolio_id uuid NOT NULL,
        symbol varchar(32) NOT NULL,
        quantity numeric NOT NULL,
        cost_basis numeric NOT NULL,
        realised_pnl numeric NOT NULL,
        fees numeric NOT NULL,
        trade_count integer NOT NULL,
        last_executed_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT positions_pkey PRIMARY KEY (portfolio_id, symbol),
        CONSTRAINT positions_portfolio_id_fkey FOREIGN KEY (portfolio_id) REFERENCES portfolios (id) ON DELETE CASCADE,
        CONSTRAINT positions_symbol_fkey FOREIGN KEY (symbol) REFERENCES instruments (symbol)
      )`);
    // Which portfolios a new price revalues.
    await q.query(`CREATE INDEX positions_open_symbol_idx ON positions (symbol) WHERE quantity <> 0`);

    await q.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL,
        key varchar(255) NOT NULL,
        request_method varchar(10) NOT NULL,
        request_path text NOT NULL,
        request_hash char(64) NOT NULL,
        status_code integer,
        response_body json,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
        CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'idempotency_keys',
      'positions',
      'prices',
      'trades',
      'portfolio_shares',
      'portfolios',
      'instruments',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
