import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { afterCommit } from '../../common/database/after-commit';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { AuditService } from '../audit/audit.service';
import { CidrSet, normalizeCidr } from '../../common/net/cidr';
import type { IpRule, IpRuleAction, IpRuleSource } from './ip-rule.entity';
import { IpRulesRepository } from './ip-rules.repository';
import { allowListLockoutAt, type AllowRuleWindow } from './self-lockout';

const lockoutWhen = (at: Date): string =>
  at.getTime() <= Date.now() + 1000 ? '' : ` when an allow rule expires at ${at.toISOString()}`;

export const IP_RULES_CHANGED = 'security.ip_rules.changed';

interface Compiled {
  allow: CidrSet;
  deny: CidrSet;
  loadedAt: number;
  nextExpiry: number;
}

/** How long another instance may keep using rules it loaded: a change here applies at once. */
const CACHE_TTL_MS = 5_000;

/**
 * Allow and deny rules, evaluated before authentication: a matching deny refuses the caller; when
 * any allow rule exists, only callers matching one are let in; deny wins over allow. Rules from
 * IP_ALLOW / IP_DENY are re-seeded at every start; threat detection adds expiring deny rules.
 */
@Injectable()
export class IpRulesService implements OnApplicationBootstrap {
  private readonly logger = new Logger(IpRulesService.name);
  private compiled?: Compiled;
  /** Bumped by every change, so a load that raced a change does not cache the old rules. */
  private generation = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly events: EventEmitter2,
    private readonly repo: IpRulesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const seed = [
        ...this.config.ipRules.allow.map((cidr) => ({ action: 'allow' as const, cidr })),
        ...this.config.ipRules.deny.map((cidr) => ({ action: 'deny' as const, cidr })),
      ];
      await this.repo.replaceConfigRules(
        manager,
        seed.map((rule) => ({ action: rule.action, cidr: normalizeCidr(rule.cidr)!.cidr })),
      );
    });
    this.compiled = undefined;
  }

  /** The decision for one address: null when allowed, else why it is refused. */
  async refusal(ip: string | undefined): Promise<string | null> {
    const rules = await this.rules();
    if (rules.deny.has(ip)) return 'denied by an IP rule';
    if (rules.allow.size > 0 && !rules.allow.has(ip)) return 'not on the IP allow-list';
    return null;
  }

  async list(query: {
    action?: IpRuleAction;
    source?: IpRuleSource;
    includeExpired?: boolean;
    limit?: number;
    cursor?: string;
  }): Promise<Page<IpRule>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repo.listRules({
      action: query.action,
      source: query.source,
      includeExpired: query.includeExpired,
      limit: limit + 1,
      after: decodeCursor(query.cursor, 'time'),
    });
    return toPage(
      rows,
      limit,
      (r) => ({ k: r.createdAt.toISOString(), id: r.id }),
      (r) => r,
    );
  }

  async create(
    input: {
      action: IpRuleAction;
      cidr: string;
      description?: string;
      expiresAt?: Date | null;
      source?: IpRuleSource;
      createdBy?: string | null;
      /** The address of the administrator adding the rule: a rule that would turn them away is refused. */
      callerIp?: string;
    },
    manager?: EntityManager,
  ): Promise<IpRule> {
    const parsed = normalizeCidr(input.cidr);
    if (!parsed)
      throw AppException.validation([{ field: 'cidr', message: 'cidr must be an IPv4 or IPv6 address or CIDR range' }]);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw AppException.validation([{ field: 'expiresAt', message: 'expiresAt must be in the future' }]);
    }
    if (input.callerIp !== undefined) {
      await this.assertNotSelfLockout(input.action, parsed.cidr, input.expiresAt ?? null, input.callerIp);
    }
    const run = async (m: EntityManager): Promise<IpRule> => {
      const rule = await this.repo.insert(m, {
        action: input.action,
        cidr: parsed.cidr,
        description: input.description ?? '',
        source: input.source ?? 'manual',
        expiresAt: input.expiresAt ?? null,
        createdBy: input.createdBy ?? null,
      });
      await this.audit.record(m, {
        action: 'ip_rule.created',
        targetType: 'ip_rule',
        targetId: rule.id,
        details: {
          action: rule.action,
          cidr: rule.cidr,
          source: rule.source,
          expiresAt: rule.expiresAt?.toISOString() ?? null,
        },
      });
      return rule;
    };
    if (manager) {
      // The caller's transaction may still fail: the rule takes effect when it commits.
      const rule = await run(manager);
      afterCommit(manager, () => this.invalidate());
      return rule;
    }
    const rule = await this.dataSource.transaction(run);
    this.invalidate();
    return rule;
  }

  async remove(id: string, callerIp?: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const rule = await this.repo.findById(manager, id);
      if (!rule) throw AppException.notFound('IP rule');
      if (callerIp !== undefined && rule.action === 'allow') {
        const others = (await this.activeAllowRules(manager)).filter((r) => r.id !== id);
        const at = allowListLockoutAt(others, callerIp, new Date());
        if (at) {
          throw new AppException(
            ErrorCode.Conflict,
            `Removing this rule would turn away your own address (${callerIp})${lockoutWhen(at)}.`,
          );
        }
      }
      await this.repo.delete(manager, id);
      await this.audit.record(manager, {
        action: 'ip_rule.deleted',
        targetType: 'ip_rule',
        targetId: id,
        details: { action: rule.action, cidr: rule.cidr, source: rule.source },
      });
    });
    this.invalidate();
  }

  /**
   * A rule that would turn the administrator's own address away, now or when some allow rule
   * expires (an allow of their own address until a time, beside a lasting allow-list), is refused.
   */
  private async assertNotSelfLockout(
    action: IpRuleAction,
    cidr: string,
    expiresAt: Date | null,
    callerIp: string,
  ): Promise<void> {
    if (action === 'deny') {
      if (new CidrSet([cidr]).has(callerIp)) {
        throw new AppException(ErrorCode.Conflict, `This rule would turn away your own address (${callerIp}).`);
      }
      return;
    }
    const allows = [...(await this.activeAllowRules()), { cidr, expiresAt }];
    const at = allowListLockoutAt(allows, callerIp, new Date());
    if (at) {
      throw new AppException(
        ErrorCode.Conflict,
        `This rule would turn away your own address (${callerIp})${lockoutWhen(at)}. Allow your own address without expiry first.`,
      );
    }
  }

  private activeAllowRules(manager?: EntityManager): Promise<(AllowRuleWindow & { id: string })[]> {
    return this.repo.activeAllowRules(manager);
  }

  /** Whether an active allow rule covers the address (threat detection never blocks those). */
  async isAllowed(ip: string): Promise<boolean> {
    return (await this.rules()).allow.has(ip);
  }

  invalidate(): void {
    this.generation += 1;
    this.compiled = undefined;
    this.events.emit(IP_RULES_CHANGED);
  }

  private async rules(): Promise<Compiled> {
    const now = Date.now();
    const c = this.compiled;
    if (c && now - c.loadedAt < CACHE_TTL_MS && now < c.nextExpiry) return c;
    const generation = this.generation;
    const rows = await this.repo.activeRules();
    const compiled: Compiled = { allow: new CidrSet(), deny: new CidrSet(), loadedAt: now, nextExpiry: Infinity };
    for (const row of rows) {
      try {
        (row.action === 'deny' ? compiled.deny : compiled.allow).add(row.cidr);
      } catch {
        this.logger.warn(`ignoring malformed IP rule ${row.cidr}`);
      }
      if (row.expiresAt) compiled.nextExpiry = Math.min(compiled.nextExpiry, row.expiresAt.getTime());
    }
    if (generation === this.generation) this.compiled = compiled;
    return compiled;
  }
}
