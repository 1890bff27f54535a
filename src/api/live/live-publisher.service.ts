import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { type AlertChangedEvent, type MetricsSampledEvent, MonitoringEvents } from '../../monitoring/monitoring.events';
import { type ReportRunProgressEvent, ReportingEvents } from '../../reporting/reporting.events';
import type { SecurityEventDto } from '../../security/threats/dto/security-event.dto';
import type { SecurityEvent } from '../../security/threats/security-event.entity';
import { SECURITY_EVENT_RECORDED } from '../../security/threats/threat.events';
import { PortfoliosService } from '../../trading/portfolios/portfolios.service';
import { PositionsService } from '../../trading/positions/positions.service';
import {
  type PortfolioRevaluedEvent,
  type PriceUpdatedEvent,
  type TradeCreatedEvent,
  TradingEvents,
} from '../../trading/trading.events';
import { reportRoom } from './live-channels';
import { LiveHub } from './live-hub';

/**
 * Maps the in-process events of the feature modules to live channels and payloads. Each event is
 * handled on the instance that emitted it and broadcast to the channel's room on every instance
 * (the Redis adapter in cluster mode). A failure here is logged and never reaches the emitter.
 */
@Injectable()
export class LivePublisher {
  private readonly logger = new Logger('LiveGateway');
  /** Portfolios whose totals are being computed, and whether another revaluation came meanwhile. */
  private readonly valuing = new Map<string, { again: PortfolioRevaluedEvent | null }>();

  constructor(
    private readonly hub: LiveHub,
    private readonly portfolios: PortfoliosService,
    private readonly positions: PositionsService,
  ) {}

  @OnEvent(TradingEvents.TradeCreated)
  onTrades(e: TradeCreatedEvent): void {
    const channel = `portfolio:${e.portfolioId}`;
    this.hub.emit(channel, 'trade', {
      channel,
      portfolioId: e.portfolioId,
      count: e.count,
      symbols: e.symbols,
      trades: e.trades,
      truncated: e.truncated,
      recordedBy: e.recordedBy,
      at: e.at,
    });
  }

  @OnEvent(TradingEvents.PriceUpdated)
  onPrices(e: PriceUpdatedEvent): void {
    this.hub.emit('prices', 'price', { channel: 'prices', count: e.count, latest: e.latest, at: e.at });
  }

  /**
   * The new totals, computed once per revaluation whoever listens. Revaluations of one portfolio
   * arriving while its totals are being computed are folded into one more computation.
   */
  @OnEvent(TradingEvents.PortfolioRevalued)
  onRevalued(e: PortfolioRevaluedEvent): void {
    const running = this.valuing.get(e.portfolioId);
    if (running) {
      running.again = running.again ? { ...e, symbols: [...new Set([...running.again.symbols, ...e.symbols])] } : e;
      return;
    }
    const state = { again: null as PortfolioRevaluedEvent | null };
    this.valuing.set(e.portfolioId, state);
    const run = async (event: PortfolioRevaluedEvent): Promise<void> => {
      const portfolio = await this.portfolios.findForSubscribers(event.portfolioId);
      if (!portfolio) return;
      const valuation = await this.positions.value(portfolio);
      const channel = `portfolio:${event.portfolioId}`;
      this.hub.emit(channel, 'portfolio_revalued', {
        channel,
        portfolioId: event.portfolioId,
        reason: event.reason,
        symbols: event.symbols,
        baseCurrency: valuation.baseCurrency,
        totals: valuation.totals,
        valuedAt: valuation.valuedAt,
      });
    };
    const loop = async (): Promise<void> => {
      let next: PortfolioRevaluedEvent | null = e;
      while (next) {
        await run(next).catch((err: unknown) =>
          this.logger.error({ msg: 'live revaluation push failed', portfolioId: e.portfolioId, err }),
        );
        next = state.again;
        state.again = null;
      }
      this.valuing.delete(e.portfolioId);
    };
    void loop();
  }

  /** Threat detection emits the stored event (its entity today; the DTO shape is accepted too). */
  @OnEvent(SECURITY_EVENT_RECORDED)
  onSecurityEvent(e: SecurityEvent | SecurityEventDto): void {
    this.hub.emit('security-events', 'security_event', {
      channel: 'security-events',
      id: e.id,
      type: e.type,
      severity: e.severity,
      ip: e.ip,
      userId: e.userId,
      details: e.details,
      occurredAt: typeof e.occurredAt === 'string' ? e.occurredAt : e.occurredAt.toISOString(),
    });
  }

  @OnEvent(MonitoringEvents.MetricsSampled)
  onMetrics(e: MetricsSampledEvent): void {
    this.hub.emit('metrics', 'metrics', { channel: 'metrics', at: e.at, values: e.values });
  }

  @OnEvent(MonitoringEvents.AlertChanged)
  onAlert(e: AlertChangedEvent): void {
    this.hub.emit('alerts', 'alert', {
      channel: 'alerts',
      id: e.id,
      ruleId: e.ruleId,
      ruleName: e.ruleName,
      state: e.state,
      level: e.level,
      labels: e.labels,
      value: e.value,
      summary: e.summary,
      at: e.at,
    });
  }

  /** To the run's owner only: a report you may not see behaves like one that does not exist. */
  @OnEvent(ReportingEvents.RunProgress)
  onReportProgress(e: ReportRunProgressEvent): void {
    this.hub.emit(reportRoom(e.reportId, e.ownerId), 'report_progress', {
      channel: `report:${e.reportId.toLowerCase()}`,
      reportId: e.reportId,
      status: e.status,
      progress: e.progress,
      error: e.error,
      at: e.at,
    });
  }
}
