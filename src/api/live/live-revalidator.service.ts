import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { ErrorCode } from '../../common/errors/error-code';
import { PrincipalsService, sourceKey } from '../../security/auth/principals.service';
import { IpRulesService } from '../../security/ip-rules/ip-rules.service';
import { ReportsService } from '../../reporting/runs/reports.service';
import { PortfoliosService } from '../../trading/portfolios/portfolios.service';
import { type LiveSocket, LiveHub } from './live-hub';
import { missingPermissions } from './live-channels';

/**
 * Keeps open sockets honest. Every LIVE_RECHECK_INTERVAL_MS (500 ms) each instance re-reads the
 * principals of all its sockets at once (one query for sessions, one for API keys, through the
 * guard's own loader) and their portfolio subscriptions (one query), then:
 * - closes sockets whose session was revoked or expired, whose user is no longer active, whose
 *   key was revoked or expired, whose address is now refused, or whose access token expired
 *   (unless the client sent a fresh one with the `auth` event);
 * - ends subscriptions whose permission is gone or whose portfolio is no longer visible (`revoked`).
 * Each instance looks after its own sockets, reading the shared database, so a change made
 * through any instance reaches every socket within one interval plus one query, with no extra
 * messaging between instances.
 */
@Injectable()
export class LiveRevalidator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('LiveGateway');
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly hub: LiveHub,
    private readonly principals: PrincipalsService,
    private readonly ipRules: IpRulesService,
    private readonly portfolios: PortfoliosService,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.recheck()
        .catch((err: unknown) => this.logger.error({ msg: 'live re-check failed', err }))
        .finally(() => this.schedule());
    }, this.config.live.recheckIntervalMs);
    this.timer.unref();
  }

  /** One pass over this instance's sockets. */
  async recheck(): Promise<void> {
    const sockets = this.hub.localSockets().filter((s) => s.connected && !s.data.closing && s.data.principal);
    if (sockets.length === 0) return;
    const checks = await this.principals.reload(sockets.map((s) => s.data.source));
    const now = Date.now();
    const alive: LiveSocket[] = [];
    for (const socket of sockets) {
      const check = checks.get(sourceKey(socket.data.source));
      if (!check || !check.ok) {
        this.hub.disconnect(socket, check?.reason ?? 'session_revoked');
        continue;
      }
      if (socket.data.tokenExpiresAt !== undefined && now >= socket.data.tokenExpiresAt) {
        this.hub.disconnect(socket, 'token_expired');
        continue;
      }
      if (await this.ipRules.refusal(socket.data.ip)) {
        this.hub.disconnect(socket, 'ip_blocked');
        continue;
      }
      socket.data.principal = check.principal;
      for (const channel of [...socket.data.subscriptions.values()]) {
        const missing = missingPermissions(channel.kind, check.principal.permissions);
        // Another user's report, read under reports:read-all: still readable with these permissions?
        if (
          missing.length === 0 &&
          channel.kind === 'report' &&
          channel.readAs &&
          !ReportsService.readsOthersOf(check.principal.permissions, channel.readAs)
        ) {
          await this.hub.revoke(socket, channel.name, {
            code: ErrorCode.NotFound,
            message: 'The report does not exist or you may not see it.',
          });
          continue;
        }
        if (missing.length > 0) {
          await this.hub.revoke(socket, channel.name, {
            code: ErrorCode.Forbidden,
            message: `You are no longer allowed to see ${channel.kind} channels.`,
            missingPermissions: missing,
          });
        }
      }
      alive.push(socket);
    }
    await this.recheckPortfolios(alive);
  }

  private async recheckPortfolios(sockets: LiveSocket[]): Promise<void> {
    const pairs: { socket: LiveSocket; channel: string; portfolioId: string }[] = [];
    for (const socket of sockets) {
      for (const channel of socket.data.subscriptions.values()) {
        if (channel.kind === 'portfolio') pairs.push({ socket, channel: channel.name, portfolioId: channel.id });
      }
    }
    if (pairs.length === 0) return;
    // Many sockets of one user on one portfolio (a dashboard in many tabs) are one check.
    const keyOf = (p: (typeof pairs)[number]): string =>
      `${p.socket.data.principal.userId}|${PortfoliosService.seesAll(p.socket.data.principal)}|${p.portfolioId}`;
    const distinct = new Map<string, (typeof pairs)[number]>();
    for (const pair of pairs) if (!distinct.has(keyOf(pair))) distinct.set(keyOf(pair), pair);
    const checks = [...distinct.values()];
    const visible = await this.portfolios.visibleAmong(
      checks.map((p) => ({ principal: p.socket.data.principal, portfolioId: p.portfolioId })),
    );
    const visibleKeys = new Set(checks.filter((_, i) => visible.has(i)).map(keyOf));
    for (const pair of pairs) {
      if (visibleKeys.has(keyOf(pair))) continue;
      await this.hub.revoke(pair.socket, pair.channel, {
        code: ErrorCode.NotFound,
        message: 'The portfolio does not exist or you may not see it.',
      });
    }
  }
}
