import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { PrometheusService } from '../metrics/prometheus.service';
import { CHANNEL_KINDS, type ChannelKind } from './live-channels';
import type { DisconnectReason } from './live.events';

/** Figures of the live gateway on this instance, for API statistics. */
export interface LiveStats {
  connections: number;
  subscriptions: Record<ChannelKind, number>;
  refusedConnections: number;
  forcedDisconnects: number;
}

/**
 * Counts of this instance's live sockets and subscriptions, read by API statistics and exposed as
 * Prometheus gauges (`live_connections`, `live_subscriptions{kind}`) with counters of refused
 * handshakes by code and of forced disconnects by reason. Label values are bounded: kinds,
 * error codes and reasons are fixed lists.
 */
@Injectable()
export class LiveMeter {
  private connections = 0;
  private readonly subscriptions = Object.fromEntries(CHANNEL_KINDS.map((k) => [k, 0])) as Record<ChannelKind, number>;
  private refused = 0;
  private forced = 0;
  private readonly refusedCounter: Counter<'code'>;
  private readonly disconnectCounter: Counter<'reason'>;

  constructor(prometheus: PrometheusService) {
    const meter = this; // eslint-disable-line @typescript-eslint/no-this-alias -- read by prom-client's collect()
    new Gauge({
      name: 'live_connections',
      help: 'Open Socket.IO connections to the live gateway on this instance.',
      registers: [prometheus.registry],
      collect() {
        this.set(meter.connections);
      },
    });
    new Gauge({
      name: 'live_subscriptions',
      help: 'Channel subscriptions of open live connections on this instance, by channel kind.',
      labelNames: ['kind'],
      registers: [prometheus.registry],
      collect() {
        for (const kind of CHANNEL_KINDS) this.set({ kind }, meter.subscriptions[kind]);
      },
    });
    this.refusedCounter = new Counter({
      name: 'live_refused_connections_total',
      help: 'Live gateway handshakes refused, by error code.',
      labelNames: ['code'],
      registers: [prometheus.registry],
    });
    this.disconnectCounter = new Counter({
      name: 'live_forced_disconnects_total',
      help: 'Live connections closed by the server, by reason.',
      labelNames: ['reason'],
      registers: [prometheus.registry],
    });
  }

  connected(): void {
    this.connections += 1;
  }

  disconnected(): void {
    this.connections -= 1;
  }

  subscribed(kind: ChannelKind): void {
    this.subscriptions[kind] += 1;
  }

  unsubscribed(kind: ChannelKind): void {
    this.subscriptions[kind] -= 1;
  }

  refusedConnection(code: string): void {
    this.refused += 1;
    this.refusedCounter.inc({ code });
  }

  forcedDisconnect(reason: DisconnectReason): void {
    this.forced += 1;
    this.disconnectCounter.inc({ reason });
  }

  snapshot(): LiveStats {
    return {
      connections: this.connections,
      subscriptions: { ...this.subscriptions },
      refusedConnections: this.refused,
      forcedDisconnects: this.forced,
    };
  }
}
