import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry } from '../../common/metrics/metrics-registry';
import { readPackageVersion } from '../../common/version';
import { SECURITY_EVENT_RECORDED } from '../../security/threats/threat.events';
import { type PriceUpdatedEvent, type TradeCreatedEvent, TradingEvents } from '../../trading/trading.events';

/** Process totals the collector turns into per-minute rates for alert rules. */
export interface Totals {
  tradesIngested: number;
  priceUpdates: number;
  loginsFailed: number;
  lockouts: number;
  securityEvents: number;
}

/**
 * Business and security counters, fed by the in-process events the trading and security modules
 * emit after commit, registered on the application's Prometheus registry; plus
 * `bastion_build_info`. Label values are bounded (outcomes and event types from fixed lists).
 */
@Injectable()
export class MonitoringCounters {
  readonly totals: Totals = { tradesIngested: 0, priceUpdates: 0, loginsFailed: 0, lockouts: 0, securityEvents: 0 };
  private readonly trades: Counter;
  private readonly tradeRequests: Counter;
  private readonly bulkSize: Histogram;
  private readonly prices: Counter;
  private readonly logins: Counter<'outcome'>;
  private readonly lockouts: Counter;
  private readonly mfaFailures: Counter;
  private readonly securityEvents: Counter<'type' | 'severity'>;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.trades = new Counter({ name: 'bastion_trades_ingested_total', help: 'Trades stored.', registers });
    this.tradeRequests = new Counter({
      name: 'bastion_trade_ingest_requests_total',
      help: 'Ingestion requests that stored at least one trade.',
      registers,
    });
    this.bulkSize = new Histogram({
      name: 'bastion_trade_ingest_batch_trades',
      help: 'Trades stored per ingestion request.',
      buckets: [1, 10, 100, 1000, 5000, 10000],
      registers,
    });
    this.prices = new Counter({ name: 'bastion_price_updates_total', help: 'Instrument prices stored.', registers });
    this.logins = new Counter({
      name: 'bastion_logins_total',
      help: 'Sign-in attempts by outcome: success, or the reason of the failure.',
      labelNames: ['outcome'],
      registers,
    });
    this.lockouts = new Counter({
      name: 'bastion_account_lockout_refusals_total',
      help: 'Sign-ins refused because the account was locked.',
      registers,
    });
    this.mfaFailures = new Counter({
      name: 'bastion_mfa_failures_total',
      help: 'Wrong or expired MFA codes at sign-in.',
      registers,
    });
    this.securityEvents = new Counter({
      name: 'bastion_security_events_total',
      help: 'Security events recorded by threat detection, by type and severity.',
      labelNames: ['type', 'severity'],
      registers,
    });
    new Gauge({
      name: 'bastion_build_info',
      help: 'Always 1; the labels name the running build.',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version: readPackageVersion(), node_version: process.version }, 1);
  }

  @OnEvent(TradingEvents.TradeCreated)
  onTrades(event: TradeCreatedEvent): void {
    this.trades.inc(event.count);
    this.tradeRequests.inc();
    this.bulkSize.observe(event.count);
    this.totals.tradesIngested += event.count;
  }

  @OnEvent(TradingEvents.PriceUpdated)
  onPrices(event: PriceUpdatedEvent): void {
    this.prices.inc(event.count);
    this.totals.priceUpdates += event.count;
  }

  @OnEvent('auth.login_succeeded')
  onLogin(): void {
    this.logins.inc({ outcome: 'success' });
  }

  @OnEvent('auth.login_failed')
  onLoginFailed(event: { reason?: string }): void {
    const reason = typeof event?.reason === 'string' && /^[a-z_]{1,40}$/.test(event.reason) ? event.reason : 'other';
    this.logins.inc({ outcome: reason });
    this.totals.loginsFailed += 1;
    if (reason === 'locked') {
      this.lockouts.inc();
      this.totals.lockouts += 1;
    }
  }

  @OnEvent('auth.mfa_failed')
  onMfaFailed(): void {
    this.mfaFailures.inc();
    this.logins.inc({ outcome: 'mfa_failed' });
  }

  @OnEvent(SECURITY_EVENT_RECORDED)
  onSecurityEvent(event: { type?: string; severity?: string }): void {
    const type = typeof event?.type === 'string' && /^[a-z_]{1,40}$/.test(event.type) ? event.type : 'other';
    const severity =
      typeof event?.severity === 'string' && /^[a-z]{1,10}$/.test(event.severity) ? event.severity : 'unknown';
    this.securityEvents.inc({ type, severity });
    this.totals.securityEvents += 1;
  }
}
