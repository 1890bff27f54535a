import type { Permission } from '../../security/rbac/permissions';

/**
 * The report data sources: what each one takes (typed parameters), what it produces (summary
 * figures and tables with typed columns) and what the caller needs to read it. One declaration
 * drives validation, the JSON schema, the CSV columns and the built-in HTML layout.
 */
export type ParamType = 'uuid' | 'datetime' | 'decimal' | 'integer' | 'string';
export type ColumnType = 'string' | 'decimal' | 'integer' | 'date' | 'datetime' | 'boolean';

export interface ParamSpec {
  name: string;
  type: ParamType;
  required?: boolean;
  description: string;
}

export interface ColumnSpec {
  name: string;
  label: string;
  type: ColumnType;
  nullable?: boolean;
}

export interface DataSourceSpec {
  key: DataSourceKey;
  title: string;
  description: string;
  permissions: Permission[];
  parameters: ParamSpec[];
  summary: ColumnSpec[];
  tables: Record<string, ColumnSpec[]>;
  /** The table a CSV holds. */
  csvTable: string;
}

export const DATA_SOURCE_KEYS = [
  'trading-performance',
  'portfolio-summary',
  'risk',
  'user-activity',
  'security-compliance',
  'trades',
] as const;
export type DataSourceKey = (typeof DATA_SOURCE_KEYS)[number];

const col = (name: string, label: string, type: ColumnType, nullable = false): ColumnSpec => ({
  name,
  label,
  type,
  nullable,
});

const PORTFOLIO: ParamSpec = {
  name: 'portfolioId',
  type: 'uuid',
  description: 'One portfolio; omitted: every portfolio the caller may read.',
};
const FROM: ParamSpec = {
  name: 'from',
  type: 'datetime',
  description: 'Start of the period (default: `to` − 30 days).',
};
const TO: ParamSpec = { name: 'to', type: 'datetime', description: 'End of the period (default: `asOf`).' };
const AS_OF: ParamSpec = {
  name: 'asOf',
  type: 'datetime',
  description:
    'Data as recorded at this moment (default: when the run is requested); the same asOf reproduces the file.',
};
const TRADING: Permission[] = ['portfolios:read', 'trades:read'];

export const DATA_SOURCES: Record<DataSourceKey, DataSourceSpec> = {
  'trading-performance': {
    key: 'trading-performance',
    title: 'Trading Performance',
    description:
      'Realised and unrealised P&L, fees, trades, win rate, profit factor, payoff ratio, daily returns with Sharpe and Sortino, maximum drawdown, turnover, by symbol and by month.',
    permissions: TRADING,
    parameters: [
      PORTFOLIO,
      FROM,
      TO,
      AS_OF,
      { name: 'riskFreeRate', type: 'decimal', description: 'Annual risk-free rate as a fraction (default 0).' },
      {
        name: 'capital',
        type: 'decimal',
        description: 'Capital the returns are measured on (default: the largest gross cost basis held).',
      },
    ],
    summary: [
      col('trades', 'Trades', 'integer'),
      col('tradedNotional', 'Traded notional', 'decimal'),
      col('fees', 'Fees', 'decimal'),
      col('realisedPnl', 'Realised P&L', 'decimal'),
      col('unrealisedPnl', 'Unrealised P&L', 'decimal'),
      col('totalPnl', 'Total P&L', 'decimal'),
      col('capital', 'Capital', 'decimal'),
      col('totalReturn', 'Total return', 'decimal'),
      col('closingTrades', 'Closing trades', 'integer'),
      col('wins', 'Wins', 'integer'),
      col('losses', 'Losses', 'integer'),
      col('winRate', 'Win rate', 'decimal', true),
      col('profitFactor', 'Profit factor', 'decimal', true),
      col('payoffRatio', 'Payoff ratio', 'decimal', true),
      col('volatility', 'Volatility (annualised)', 'decimal', true),
      col('sharpe', 'Sharpe ratio', 'decimal', true),
      col('sortino', 'Sortino ratio', 'decimal', true),
      col('maxDrawdown', 'Max drawdown', 'decimal'),
      col('maxDrawdownRatio', 'Max drawdown %', 'decimal'),
      col('maxDrawdownPeak', 'Drawdown peak', 'date', true),
      col('maxDrawdownTrough', 'Drawdown trough', 'date', true),
      col('maxDrawdownRecovery', 'Drawdown recovery', 'date', true),
      col('turnover', 'Turnover', 'decimal', true),
    ],
    tables: {
      bySymbol: [
        col('symbol', 'Symbol', 'string'),
        col('trades', 'Trades', 'integer'),
        col('tradedNotional', 'Traded notional', 'decimal'),
        col('fees', 'Fees', 'decimal'),
        col('realisedPnl', 'Realised P&L', 'decimal'),
        col('unrealisedPnl', 'Unrealised P&L', 'decimal'),
        col('totalPnl', 'Total P&L', 'decimal'),
      ],
      byMonth: [
        col('month', 'Month', 'string'),
        col('trades', 'Trades', 'integer'),
        col('fees', 'Fees', 'decimal'),
        col('realisedPnl', 'Realised P&L', 'decimal'),
        col('pnl', 'P&L', 'decimal'),
        col('return', 'Return', 'decimal'),
      ],
      daily: [
        col('date', 'Date', 'date'),
        col('pnl', 'P&L', 'decimal'),
        col('equity', 'Equity', 'decimal'),
        col('return', 'Return', 'decimal'),
      ],
    },
    csvTable: 'bySymbol',
  },
  'portfolio-summary': {
    key: 'portfolio-summary',
    title: 'Portfolio Summary',
    description: 'Positions, market values, weights, unrealised P&L and cash flows.',
    permissions: TRADING,
    parameters: [PORTFOLIO, FROM, TO, AS_OF],
    summary: [
      col('portfolios', 'Portfolios', 'integer'),
      col('openPositions', 'Open positions', 'integer'),
      col('marketValue', 'Market value', 'decimal'),
      col('costBasis', 'Cost basis', 'decimal'),
      col('unrealisedPnl', 'Unrealised P&L', 'decimal'),
      col('realisedPnl', 'Realised P&L', 'decimal'),
      col('unpricedSymbols', 'Unpriced symbols', 'string'),
    ],
    tables: {
      positions: [
        col('portfolioId', 'Portfolio', 'string'),
        col('symbol', 'Symbol', 'string'),
        col('quantity', 'Quantity', 'decimal'),
        col('averageCost', 'Average cost', 'decimal', true),
        col('price', 'Price', 'decimal', true),
        col('marketValue', 'Market value', 'decimal', true),
        col('weight', 'Weight', 'decimal', true),
        col('unrealisedPnl', 'Unrealised P&L', 'decimal', true),
        col('realisedPnl', 'Realised P&L', 'decimal'),
      ],
      cashFlows: [
        col('portfolioId', 'Portfolio', 'string'),
        col('bought', 'Bought', 'decimal'),
        col('sold', 'Sold', 'decimal'),
        col('fees', 'Fees', 'decimal'),
        col('net', 'Net cash flow', 'decimal'),
      ],
    },
    csvTable: 'positions',
  },
  risk: {
    key: 'risk',
    title: 'Risk',
    description: 'Exposure long, short, gross and net; concentration (top positions, Herfindahl); largest losses.',
    permissions: TRADING,
    parameters: [PORTFOLIO, AS_OF, { name: 'top', type: 'integer', description: 'Positions listed (default 10).' }],
    summary: [
      col('long', 'Long exposure', 'decimal'),
      col('short', 'Short exposure', 'decimal'),
      col('gross', 'Gross exposure', 'decimal'),
      col('net', 'Net exposure', 'decimal'),
      col('positions', 'Open positions', 'integer'),
      col('herfindahl', 'Herfindahl index', 'decimal', true),
      col('effectivePositions', 'Effective positions', 'decimal', true),
    ],
    tables: {
      top: [
        col('portfolioId', 'Portfolio', 'string'),
        col('symbol', 'Symbol', 'string'),
        col('marketValue', 'Market value', 'decimal'),
        col('weight', 'Weight', 'decimal'),
      ],
      largestLosses: [
        col('portfolioId', 'Portfolio', 'string'),
        col('symbol', 'Symbol', 'string'),
        col('marketValue', 'Market value', 'decimal'),
        col('unrealisedPnl', 'Unrealised P&L', 'decimal'),
      ],
    },
    csvTable: 'top',
  },
  'user-activity': {
    key: 'user-activity',
    title: 'User Activity',
    description: 'Logins, failures, lockouts and active sessions by user and day.',
    permissions: ['users:read-activity'],
    parameters: [FROM, TO, AS_OF],
    summary: [
      col('logins', 'Logins', 'integer'),
      col('failures', 'Failed sign-ins', 'integer'),
      col('lockouts', 'Lockouts', 'integer'),
      col('activeSessions', 'Active sessions', 'integer'),
    ],
    tables: {
      byUserAndDay: [
        col('day', 'Day', 'date'),
        col('email', 'User', 'string'),
        col('logins', 'Logins', 'integer'),
        col('failures', 'Failures', 'integer'),
        col('lockouts', 'Lockouts', 'integer'),
      ],
      activeSessions: [col('email', 'User', 'string'), col('sessions', 'Active sessions', 'integer')],
    },
    csvTable: 'byUserAndDay',
  },
  'security-compliance': {
    key: 'security-compliance',
    title: 'Security & Compliance',
    description:
      "MFA coverage by role, users per role (access review), API keys with age and last use, security events by type, lockouts, and the audit chain's verification.",
    permissions: ['users:read', 'audit:verify', 'security-events:read'],
    parameters: [FROM, TO, AS_OF],
    summary: [
      col('users', 'Users', 'integer'),
      col('mfaCoverage', 'MFA coverage', 'decimal', true),
      col('apiKeys', 'API keys', 'integer'),
      col('lockouts', 'Lockouts', 'integer'),
      col('auditEntries', 'Audit entries', 'integer'),
      col('auditChainValid', 'Audit chain valid', 'boolean'),
    ],
    tables: {
      mfaByRole: [
        col('role', 'Role', 'string'),
        col('users', 'Users', 'integer'),
        col('active', 'Active', 'integer'),
        col('mfa', 'With MFA', 'integer'),
        col('coverage', 'Coverage', 'decimal', true),
      ],
      accessReview: [
        col('email', 'User', 'string'),
        col('status', 'Status', 'string'),
        col('roles', 'Roles', 'string'),
      ],
      apiKeys: [
        col('name', 'Name', 'string'),
        col('prefix', 'Prefix', 'string'),
        col('owner', 'Owner', 'string'),
        col('createdAt', 'Created', 'datetime'),
        col('ageDays', 'Age (days)', 'integer'),
        col('lastUsedAt', 'Last used', 'datetime', true),
        col('revoked', 'Revoked', 'boolean'),
      ],
      securityEvents: [
        col('type', 'Type', 'string'),
        col('severity', 'Severity', 'string'),
        col('count', 'Count', 'integer'),
      ],
    },
    csvTable: 'accessReview',
  },
  trades: {
    key: 'trades',
    title: 'Trades',
    description: 'Every trade of the period, streamed (CSV of any size in bounded memory).',
    permissions: TRADING,
    parameters: [PORTFOLIO, FROM, TO, AS_OF],
    summary: [col('trades', 'Trades', 'integer')],
    tables: {
      trades: [
        col('id', 'Id', 'string'),
        col('portfolioId', 'Portfolio', 'string'),
        col('executedAt', 'Executed at', 'datetime'),
        col('symbol', 'Symbol', 'string'),
        col('side', 'Side', 'string'),
        col('quantity', 'Quantity', 'decimal'),
        col('price', 'Price', 'decimal'),
        col('fees', 'Fees', 'decimal'),
        col('externalId', 'External id', 'string', true),
      ],
    },
    csvTable: 'trades',
  },
};

/** The built-in templates: one per data source, same key. */
export const BUILTIN_TEMPLATES = DATA_SOURCE_KEYS;

/** JSON Schema (2020-12) of a report's JSON file for a data source. */
export function jsonSchemaFor(spec: DataSourceSpec): Record<string, unknown> {
  const typeOf = (c: ColumnSpec): Record<string, unknown> => {
    const base: Record<string, unknown> =
      c.type === 'integer'
        ? { type: 'integer' }
        : c.type === 'boolean'
          ? { type: 'boolean' }
          : c.type === 'decimal'
            ? { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' }
            : c.type === 'date'
              ? { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }
              : c.type === 'datetime'
                ? { type: 'string', format: 'date-time' }
                : { type: 'string' };
    return c.nullable ? { anyOf: [base, { type: 'null' }] } : base;
  };
  const object = (cols: ColumnSpec[]) => ({
    type: 'object',
    additionalProperties: false,
    required: cols.map((c) => c.name),
    properties: Object.fromEntries(cols.map((c) => [c.name, typeOf(c)])),
  });
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:bastion:report:${spec.key}`,
    title: spec.title,
    type: 'object',
    additionalProperties: false,
    required: ['template', 'title', 'asOf', 'parameters', 'summary', 'tables'],
    properties: {
      template: { type: 'string' },
      title: { type: 'string' },
      asOf: { type: 'string', format: 'date-time' },
      parameters: { type: 'object' },
      summary: object(spec.summary),
      tables: {
        type: 'object',
        additionalProperties: false,
        required: Object.keys(spec.tables),
        properties: Object.fromEntries(
          Object.entries(spec.tables).map(([name, cols]) => [name, { type: 'array', items: object(cols) }]),
        ),
      },
    },
  };
}
