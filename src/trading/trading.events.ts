/**
 * Events the trading module emits in process (EventEmitter2, `@nestjs/event-emitter`), after the
 * change they describe is committed. For the live gateway (`portfolio:<id>` channels) and the
 * reports that come later: subscribe with `@OnEvent(TradingEvents.TradeCreated)`.
 *
 * Payloads are small on purpose: one event per request, not per trade. They carry what a
 * subscriber needs to decide whom to tell (portfolio and owner ids); a subscriber that pushes
 * figures reads them through the services, which apply the access rules.
 */
export const TradingEvents = {
  /** One per ingestion request that stored at least one trade. */
  TradeCreated: 'trade.created',
  /** One per price request. */
  PriceUpdated: 'price.updated',
  /** A portfolio's valuation changed: new trades, or a new latest price for a symbol it holds. */
  PortfolioRevalued: 'portfolio.revalued',
  /** A portfolio was renamed, re-described, given another base currency, or archived. */
  PortfolioUpdated: 'portfolio.updated',
} as const;

export type TradingEventName = (typeof TradingEvents)[keyof typeof TradingEvents];

/** At most this many trades are described in a `trade.created` event; `count` is always exact. */
export const TRADE_EVENT_SAMPLE = 100;

export interface TradeSummary {
  id: string;
  symbol: string;
  side: 'buy' | 'sell';
  /** Decimal strings. */
  quantity: string;
  price: string;
  executedAt: string;
  externalId: string | null;
}

export interface TradeCreatedEvent {
  portfolioId: string;
  ownerId: string;
  /** Trades stored by the request (duplicates skipped are not counted). */
  count: number;
  symbols: string[];
  /** The first TRADE_EVENT_SAMPLE trades in execution order; `truncated` when there were more. */
  trades: TradeSummary[];
  truncated: boolean;
  /** The user who recorded them. */
  recordedBy: string;
  /** ISO 8601. */
  at: string;
}

export interface PriceUpdatedEvent {
  /** Prices stored by the request. */
  count: number;
  /** Per symbol in the request, its latest price after it (which may be an older stored one). */
  latest: { symbol: string; price: string; asOf: string }[];
  at: string;
}

export interface PortfolioRevaluedEvent {
  portfolioId: string;
  ownerId: string;
  reason: 'trades' | 'prices';
  /** The symbols whose trades or latest price changed. */
  symbols: string[];
  at: string;
}

export interface PortfolioUpdatedEvent {
  portfolioId: string;
  ownerId: string;
  change: 'updated' | 'archived';
  /** The fields that changed (`archivedAt` for an archive). */
  fields: string[];
  at: string;
}

export interface TradingEventPayloads {
  [TradingEvents.TradeCreated]: TradeCreatedEvent;
  [TradingEvents.PriceUpdated]: PriceUpdatedEvent;
  [TradingEvents.PortfolioRevalued]: PortfolioRevaluedEvent;
  [TradingEvents.PortfolioUpdated]: PortfolioUpdatedEvent;
}
