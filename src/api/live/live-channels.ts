import type { DataSourceKey } from '../../reporting/data/data-sources';
import type { Permission } from '../../security/rbac/permissions';

/** The channels of the live gateway: fixed ones, and `portfolio:<id>` / `report:<id>` per object. */
export const CHANNEL_KINDS = ['prices', 'security-events', 'metrics', 'alerts', 'portfolio', 'report'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export type Channel =
  | { kind: 'prices' | 'security-events' | 'metrics' | 'alerts'; name: string }
  | {
      kind: 'portfolio' | 'report';
      name: string;
      id: string;
      /**
       * Report channels, set on subscription: the room of the run's owner when the subscriber may
       * read that run (its owner, or a `reports:read-all` reader of its data source, `readAs`).
       */
      room?: string;
      readAs?: DataSourceKey;
    };

/** What each kind of channel needs, checked at subscription and again whenever permissions change. */
export const CHANNEL_PERMISSIONS: Record<ChannelKind, readonly Permission[]> = {
  // Prices value portfolios: whoever may read portfolios sees the prices that value them.
  prices: ['portfolios:read'],
  'security-events': ['security-events:read'],
  metrics: ['metrics:read'],
  alerts: ['monitoring:read'],
  // Trades are pushed on the portfolio channel, so it needs what reading them over REST needs.
  portfolio: ['portfolios:read', 'trades:read'],
  report: ['reports:read'],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIXED = new Set(['prices', 'security-events', 'metrics', 'alerts']);

/**
 * Parses a channel name from a client. `portfolio:<uuid>` and `report:<uuid>` (ids lower-cased, so
 * one object has one channel); anything else is `undefined`, with why in {@link channelError}.
 */
export function parseChannel(name: unknown): Channel | undefined {
  if (typeof name !== 'string' || name.length > 64) return undefined;
  if (FIXED.has(name)) return { kind: name as 'prices', name };
  const m = /^(portfolio|report):(.+)$/.exec(name);
  if (!m || !UUID.test(m[2])) return undefined;
  const id = m[2].toLowerCase();
  return { kind: m[1] as 'portfolio' | 'report', name: `${m[1]}:${id}`, id };
}

/** Why {@link parseChannel} refused a name, for the validation error of the ack. */
export function channelError(name: unknown): string {
  if (typeof name !== 'string') return 'channel must be a string';
  if (/^(portfolio|report):/.test(name)) return 'the id of a portfolio or report channel must be a UUID';
  return 'channel must be one of prices, security-events, metrics, alerts, portfolio:<id>, report:<id>';
}

/** The permissions of `required` that `held` lacks. */
export function missingPermissions(kind: ChannelKind, held: ReadonlySet<Permission>): Permission[] {
  return CHANNEL_PERMISSIONS[kind].filter((p) => !held.has(p));
}

/**
 * The Socket.IO room a subscription joins. A report's progress goes to the room of its owner
 * (`reportRoom`), which those who may read the run join (REST's read rule, `ReportsService.readable`);
 * anyone else joins a room of their own, so a report you may not see behaves exactly like one that
 * does not exist (the subscription succeeds and nothing ever arrives).
 */
export function roomOf(channel: Channel, userId: string): string {
  if (channel.kind !== 'report') return channel.name;
  return channel.room ?? `${channel.name}#${userId}`;
}

export const reportRoom = (reportId: string, ownerId: string): string => `report:${reportId.toLowerCase()}#${ownerId}`;
