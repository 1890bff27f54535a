import type { AlertChangedEvent, MetricsSampledEvent } from '../../monitoring/monitoring.events';
import type { ReportRunProgressEvent } from '../../reporting/reporting.events';
import type { SecurityEventDto } from '../../security/threats/dto/security-event.dto';
import { SECURITY_EVENT_TYPES, SEVERITIES } from '../../security/threats/security-event.entity';
import type { PortfolioTotalsDto } from '../../trading/positions/dto/positions.dto';
import type { PriceUpdatedEvent, TradeCreatedEvent } from '../../trading/trading.events';
import type { ChannelKind } from './live-channels';

/**
 * The live gateway's contract: every event the server sends and every event a client may send,
 * with their payloads. The TypeScript types type the Socket.IO server (`Server<...>`), and
 * {@link SERVER_EVENTS} / {@link CLIENT_EVENTS} give each one a JSON Schema, from which the
 * AsyncAPI document at /docs/asyncapi.json is built; the e2e tests check real messages against
 * those schemas, so the document and the wire cannot drift apart.
 */

/** An error in an ack or a refusal (`connect_error`'s `data`): like a problem+json body. */
export interface LiveError {
  code: string;
  message: string;
  /** Per field, for VALIDATION_FAILED. */
  errors?: { field: string; message: string }[];
  /** For FORBIDDEN: what the caller lacks. */
  missingPermissions?: string[];
  /** For RATE_LIMITED. */
  retryAfterMs?: number;
}

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: LiveError };

/** Why the server closes a connection (the `reason` of `closing`). */
export const DISCONNECT_REASONS = [
  'token_expired',
  'session_revoked',
  'session_expired',
  'user_inactive',
  'api_key_revoked',
  'api_key_expired',
  'ip_blocked',
  'password_expired',
  'mfa_enrolment_required',
  'rate_limited',
  'slow_consumer',
  'server_shutdown',
] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

export interface TradeMessage extends Omit<TradeCreatedEvent, 'ownerId'> {
  channel: string;
}
export interface PortfolioRevaluedMessage {
  channel: string;
  portfolioId: string;
  reason: 'trades' | 'prices';
  symbols: string[];
  baseCurrency: string;
  totals: PortfolioTotalsDto;
  valuedAt: string;
}
export interface PriceMessage extends PriceUpdatedEvent {
  channel: 'prices';
}
export interface SecurityEventMessage extends SecurityEventDto {
  channel: 'security-events';
}
export interface MetricsMessage extends MetricsSampledEvent {
  channel: 'metrics';
}
export interface AlertMessage extends AlertChangedEvent {
  channel: 'alerts';
}
export interface ReportProgressMessage extends Omit<ReportRunProgressEvent, 'ownerId'> {
  channel: string;
}
export interface RevokedMessage {
  channel: string;
  code: string;
  message: string;
}
export interface ClosingMessage {
  reason: DisconnectReason;
  message: string;
  /** True when reconnecting (to this or another instance) is expected to work. */
  reconnect: boolean;
}

export interface ServerToClientEvents {
  trade: (m: TradeMessage) => void;
  portfolio_revalued: (m: PortfolioRevaluedMessage) => void;
  price: (m: PriceMessage) => void;
  security_event: (m: SecurityEventMessage) => void;
  metrics: (m: MetricsMessage) => void;
  alert: (m: AlertMessage) => void;
  report_progress: (m: ReportProgressMessage) => void;
  revoked: (m: RevokedMessage) => void;
  closing: (m: ClosingMessage) => void;
}

export interface ClientToServerEvents {
  subscribe: (m: { channel: string }, ack: (a: Ack<{ channel: string }>) => void) => void;
  unsubscribe: (m: { channel: string }, ack: (a: Ack<{ channel: string }>) => void) => void;
  auth: (m: { token: string }, ack: (a: Ack<{ expiresAt: string }>) => void) => void;
}

/** What the gateway keeps per socket (`socket.data`). */
export type JsonSchema = Record<string, unknown>;

const str = (description?: string, extra: JsonSchema = {}): JsonSchema => ({
  type: 'string',
  ...(description ? { description } : {}),
  ...extra,
});
const uuid = (description?: string): JsonSchema => str(description, { format: 'uuid' });
const time = (description = 'ISO 8601, UTC.'): JsonSchema => str(description, { format: 'date-time' });
const decimal = (description: string): JsonSchema =>
  str(`${description} A decimal string.`, { pattern: '^-?\\d+(\\.\\d+)?$', examples: ['1234.5'] });
const nullable = (schema: JsonSchema): JsonSchema => ({ oneOf: [schema, { type: 'null' }] });
const obj = (properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: 'object',
  ...(description ? { description } : {}),
  required: Object.keys(properties),
  properties,
});
const channel = (description: string, examples: string[]): JsonSchema => str(description, { examples });

const TOTALS = obj(
  {
    costBasis: decimal('Sum of position cost bases.'),
    marketValue: decimal('Sum over priced positions.'),
    unrealisedPnl: decimal('Sum over priced positions.'),
    realisedPnl: decimal('Sum over all positions, closed ones included.'),
    totalPnl: decimal('realisedPnl + unrealisedPnl.'),
    fees: decimal('Every fee paid.'),
    openPositions: { type: 'integer', minimum: 0 },
    unpricedSymbols: { type: 'array', items: str() },
  },
  'The portfolio totals after the change, as GET /api/v1/portfolios/{id}/positions answers them.',
);

export const LIVE_ERROR_SCHEMA = obj(
  {
    code: str('A stable code, as in problem+json bodies (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, ...).', {
      examples: ['NOT_FOUND'],
    }),
    message: str('What went wrong, for people.'),
  },
  'An error: the `data` of a `connect_error`, or the `error` of an ack.',
);
(LIVE_ERROR_SCHEMA.properties as Record<string, JsonSchema>).errors = {
  type: 'array',
  items: obj({ field: str(), message: str() }),
};
(LIVE_ERROR_SCHEMA.properties as Record<string, JsonSchema>).missingPermissions = { type: 'array', items: str() };
(LIVE_ERROR_SCHEMA.properties as Record<string, JsonSchema>).retryAfterMs = { type: 'integer', minimum: 0 };

export interface EventDoc {
  summary: string;
  /** The channel kinds whose subscribers receive it; `connection` for events about the socket itself. */
  channels: (ChannelKind | 'connection')[];
  payload: JsonSchema;
}

/** Every server-to-client event, one entry each (a missing or extra one does not compile). */
export const SERVER_EVENTS: Record<keyof ServerToClientEvents, EventDoc> = {
  trade: {
    summary: 'Trades were recorded in the portfolio (one message per request, up to 100 trades described).',
    channels: ['portfolio'],
    payload: obj({
      channel: channel('portfolio:<id>', ['portfolio:0b6f6d3e-3c1e-4d0a-9a55-0f1f5d1f9b2e']),
      portfolioId: uuid(),
      count: { type: 'integer', minimum: 1, description: 'Trades stored by the request.' },
      symbols: { type: 'array', items: str() },
      trades: {
        type: 'array',
        maxItems: 100,
        items: obj({
          id: uuid(),
          symbol: str(),
          side: { type: 'string', enum: ['buy', 'sell'] },
          quantity: decimal('Quantity.'),
          price: decimal('Price.'),
          executedAt: time(),
          externalId: nullable(str()),
        }),
      },
      truncated: { type: 'boolean', description: 'More trades were stored than are described.' },
      recordedBy: uuid('The user who recorded them.'),
      at: time(),
    }),
  },
  portfolio_revalued: {
    summary: "The portfolio's valuation changed (new trades, or a new latest price of a symbol it holds).",
    channels: ['portfolio'],
    payload: obj({
      channel: channel('portfolio:<id>', ['portfolio:0b6f6d3e-3c1e-4d0a-9a55-0f1f5d1f9b2e']),
      portfolioId: uuid(),
      reason: { type: 'string', enum: ['trades', 'prices'] },
      symbols: { type: 'array', items: str(), description: 'The symbols whose trades or latest price changed.' },
      baseCurrency: str('Every amount is in this currency.'),
      totals: TOTALS,
      valuedAt: time('When the totals were computed.'),
    }),
  },
  price: {
    summary: 'Prices were published (one message per request).',
    channels: ['prices'],
    payload: obj({
      channel: { const: 'prices' },
      count: { type: 'integer', minimum: 0, description: 'Prices stored by the request.' },
      latest: {
        type: 'array',
        description: 'Per symbol of the request, its latest price after it.',
        items: obj({ symbol: str(), price: decimal('Price.'), asOf: time() }),
      },
      at: time(),
    }),
  },
  security_event: {
    summary: 'The threat detector recorded a security event (as GET /api/v1/security/events lists them).',
    channels: ['security-events'],
    payload: obj({
      channel: { const: 'security-events' },
      id: uuid(),
      type: { type: 'string', enum: [...SECURITY_EVENT_TYPES] },
      severity: { type: 'string', enum: [...SEVERITIES] },
      ip: nullable(str()),
      userId: nullable(uuid()),
      details: { type: 'object', additionalProperties: true },
      occurredAt: time(),
    }),
  },
  metrics: {
    summary: 'A metrics sample (one per collection cycle of the monitoring module).',
    channels: ['metrics'],
    payload: obj({
      channel: { const: 'metrics' },
      at: time(),
      values: {
        type: 'object',
        description: 'Metric key → value; labelled series as name{label="value"}.',
        additionalProperties: { type: 'number' },
      },
    }),
  },
  alert: {
    summary: 'An alert was created or changed state.',
    channels: ['alerts'],
    payload: obj({
      channel: { const: 'alerts' },
      id: uuid(),
      ruleId: uuid(),
      ruleName: str(),
      state: { type: 'string', enum: ['pending', 'firing', 'acknowledged', 'resolved'] },
      level: { type: 'string', enum: ['info', 'warning', 'error', 'critical'] },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      value: nullable({ type: 'number' }),
      summary: nullable(str()),
      at: time(),
    }),
  },
  report_progress: {
    summary: 'A report run changed status or progress (sent to the run’s owner only).',
    channels: ['report'],
    payload: obj({
      channel: channel('report:<id>', ['report:7d1c1f0e-2a7b-4d43-9a8e-1c2b3d4e5f60']),
      reportId: uuid(),
      status: { type: 'string', enum: ['queued', 'running', 'completed', 'failed'] },
      progress: { type: 'number', minimum: 0, maximum: 100 },
      error: nullable(str('Why the run failed, safe to show.')),
      at: time(),
    }),
  },
  revoked: {
    summary:
      'A subscription was ended by the server: the caller lost a permission it needs, or the object became invisible to them. Subscribing again gives the reason.',
    channels: ['connection'],
    payload: obj({
      channel: str('The channel that was ended.'),
      code: str('FORBIDDEN (a permission was lost) or NOT_FOUND (the object is no longer visible).'),
      message: str(),
    }),
  },
  closing: {
    summary: 'Sent just before the server closes the connection, with why.',
    channels: ['connection'],
    payload: obj({
      reason: {
        type: 'string',
        enum: [...DISCONNECT_REASONS],
        description:
          'token_expired: send a fresh token with the `auth` event before expiry, or reconnect with one. server_shutdown: reconnect (to another instance). slow_consumer: the client read too slowly. The others: the credentials no longer work.',
      },
      message: str(),
      reconnect: { type: 'boolean', description: 'Whether reconnecting (with valid credentials) is expected to work.' },
    }),
  },
};

const ACK = (extra: Record<string, JsonSchema>): JsonSchema => ({
  oneOf: [obj({ ok: { const: true }, ...extra }), obj({ ok: { const: false }, error: LIVE_ERROR_SCHEMA })],
});

export interface ClientEventDoc {
  summary: string;
  payload: JsonSchema;
  ack: JsonSchema;
}

/** Every client-to-server event; each answers through the Socket.IO acknowledgement. */
export const CLIENT_EVENTS: Record<keyof ClientToServerEvents, ClientEventDoc> = {
  subscribe: {
    summary: 'Subscribe to a channel (permission- and object-checked). Idempotent.',
    payload: obj({
      channel: str('prices, security-events, metrics, alerts, portfolio:<id> or report:<id>', {
        maxLength: 64,
        examples: ['prices', 'portfolio:0b6f6d3e-3c1e-4d0a-9a55-0f1f5d1f9b2e'],
      }),
    }),
    ack: ACK({ channel: str('The channel as subscribed (ids lower-cased).') }),
  },
  unsubscribe: {
    summary: 'Leave a channel. Idempotent.',
    payload: obj({ channel: str(undefined, { maxLength: 64 }) }),
    ack: ACK({ channel: str() }),
  },
  auth: {
    summary:
      'Replace the access token of the connection (same user) before it expires; without it the server disconnects with reason token_expired.',
    payload: obj({ token: str('A fresh access token from POST /api/v1/auth/refresh.') }),
    ack: ACK({ expiresAt: time('When the new token expires.') }),
  },
};
