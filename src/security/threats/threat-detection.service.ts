import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { ActivityService } from '../../users/activity/activity.service';
import { IpRulesService } from '../ip-rules/ip-rules.service';
import { CidrSet, normalizeCidr } from '../../common/net/cidr';
import { SecurityEventsService } from './security-events.service';
import { ThreatWindows } from './threat-windows';
import {
  type ForbiddenSignal,
  type LoginFailedSignal,
  type LoginSucceededSignal,
  type SessionSignal,
  ThreatSignals,
} from './threat.events';

/**
 * Watches sign-in failures, token reuse, MFA failures and 403s, and records security events when
 * thresholds (THREAT_* settings) are crossed within the window. Many accounts failing from one
 * IP (credential stuffing or password spraying) also blocks that IP for THREAT_BLOCK_SECONDS with
 * an expiring deny rule, audited and visible in /security/ip-rules. Windows are shared by the
 * instances through Redis when REDIS_URL is set (see ThreatWindows), else kept per instance.
 */
@Injectable()
export class ThreatDetectionService {
  private readonly logger = new Logger(ThreatDetectionService.name);
  private readonly windowMs: number;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly activity: ActivityService,
    private readonly securityEvents: SecurityEventsService,
    private readonly ipRules: IpRulesService,
    private readonly windows: ThreatWindows,
  ) {
    this.windowMs = config.threats.windowSeconds * 1000;
  }

  @OnEvent(ThreatSignals.loginFailed, { async: true, promisify: true, suppressErrors: true })
  async onLoginFailed(signal: LoginFailedSignal): Promise<void> {
    await this.guard(async () => {
      const t = this.config.threats;
      const account = signal.email.toLowerCase();
      const perAccount = await this.windows.hit('failures-per-account', account, this.windowMs);
      if (perAccount >= t.bruteForceFailures && (await this.firstReport(`brute:${account}`))) {
        await this.securityEvents.record({
          type: 'brute_force',
          severity: 'high',
          ip: signal.ip,
          userId: signal.userId,
          details: { account, failures: perAccount, windowSeconds: t.windowSeconds },
        });
      }
      if (!signal.ip) return;
      const attempts = await this.windows.hit('failures-per-ip', signal.ip, this.windowMs);
      const distinct = await this.windows.distinct('accounts-per-ip', signal.ip, account, this.windowMs);
      if (distinct >= t.stuffingAccounts && (await this.firstReport(`stuffing:${signal.ip}`))) {
        // About one attempt per account looks like spraying (few passwords, many users); more, like
        // stuffing (leaked pairs). Both are one event type: the pattern is a hint in the details.
        await this.securityEvents.record({
          type: 'credential_stuffing',
          severity: 'critical',
          ip: signal.ip,
          details: {
            accounts: distinct,
            attempts,
            pattern: attempts <= distinct * 1.5 ? 'spraying' : 'stuffing',
            windowSeconds: t.windowSeconds,
          },
        });
        await this.block(signal.ip, `${distinct} accounts failed to sign in from this address`);
      }
    });
  }

  @OnEvent(ThreatSignals.mfaFailed, { async: true, promisify: true, suppressErrors: true })
  async onMfaFailed(signal: LoginFailedSignal): Promise<void> {
    await this.guard(async () => {
      const key = signal.userId ?? signal.email;
      const count = await this.windows.hit('mfa-failures', key, this.windowMs);
      if (count >= this.config.threats.mfaFailures && (await this.firstReport(`mfa:${key}`))) {
        await this.securityEvents.record({
          type: 'mfa_failures',
          severity: 'high',
          ip: signal.ip,
          userId: signal.userId,
          details: { failures: count },
        });
      }
    });
  }

  @OnEvent(ThreatSignals.refreshTokenReused, { async: true, promisify: true, suppressErrors: true })
  async onRefreshReuse(signal: SessionSignal): Promise<void> {
    await this.guard(() =>
      this.securityEvents.record({
        type: 'refresh_token_reuse',
        severity: 'high',
        ip: signal.ip,
        userId: signal.userId,
        details: { sessionId: signal.sessionId },
      }),
    );
  }

  @OnEvent(ThreatSignals.forbidden, { async: true, promisify: true, suppressErrors: true })
  async onForbidden(signal: ForbiddenSignal): Promise<void> {
    await this.guard(async () => {
      const key = signal.userId ?? signal.ip ?? 'unknown';
      const count = await this.windows.hit('forbidden', key, 60_000);
      if (count >= this.config.threats.forbiddenBurst && (await this.firstReport(`403:${key}`, 60_000))) {
        await this.securityEvents.record({
          type: 'forbidden_burst',
          severity: 'medium',
          ip: signal.ip,
          userId: signal.userId,
          details: { count, perSeconds: 60, lastPath: `${signal.method} ${signal.path}` },
        });
      }
    });
  }

  /** A sign-in from an IP and user agent pair the user has not signed in from before. */
  @OnEvent(ThreatSignals.loginSucceeded, { async: true, promisify: true, suppressErrors: true })
  async onLoginSucceeded(signal: LoginSucceededSignal): Promise<void> {
    await this.guard(async () => {
      const device = { ip: signal.ip ?? null, userAgent: signal.userAgent ?? null };
      // The very first sign-in is not "new": there is nothing to compare with.
      if (await this.activity.isNewDevice(signal.userId, device, signal.sessionId)) {
        await this.securityEvents.record({
          type: 'new_device_login',
          severity: 'low',
          ip: signal.ip,
          userId: signal.userId,
          details: { userAgent: signal.userAgent ?? null },
        });
      }
    });
  }

  private async block(ip: string, reason: string): Promise<void> {
    const cidr = normalizeCidr(ip)?.cidr;
    if (!cidr) return;
    // Never block a trusted proxy (that would turn away everyone behind it) or an allowed address.
    if (new CidrSet(this.config.http.trustedProxies).has(ip) || (await this.ipRules.isAllowed(ip))) {
      this.logger.warn(`not blocking ${ip} (${reason}): it is a trusted proxy or covered by an allow rule`);
      return;
    }
    const expiresAt = new Date(Date.now() + this.config.threats.blockSeconds * 1000);
    const rule = await this.ipRules.create({
      action: 'deny',
      cidr,
      source: 'threat',
      expiresAt,
      description: `blocked by threat detection: ${reason}`,
    });
    await this.securityEvents.record({
      type: 'ip_blocked',
      severity: 'high',
      ip,
      details: { ruleId: rule.id, until: expiresAt.toISOString(), reason },
    });
  }

  /** Keys already reported in the current window, so one attack is one event, not hundreds. */
  private firstReport(key: string, windowMs = this.windowMs): Promise<boolean> {
    return this.windows.firstReport(key, windowMs);
  }

  private async guard(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.error(`threat detection failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
