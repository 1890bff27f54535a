import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { KeysetPosition } from '../../common/pagination/pagination';
import { IpRule, type IpRuleAction, type IpRuleSource } from './ip-rule.entity';

/** One row of `ip_rules` as the evaluations read it. */
interface RawIpRule {
  id: string;
  action: IpRuleAction;
  cidr: string;
  expires_at: Date | null;
}

/** A rule in force, as the filter and the self-lockout check need it. */
export interface ActiveRule {
  id: string;
  action: IpRuleAction;
  cidr: string;
  expiresAt: Date | null;
}

/** The optional filters of the rule list. */
export interface IpRuleListFilter {
  action?: IpRuleAction;
  source?: IpRuleSource;
  includeExpired?: boolean;
  limit: number;
  after?: KeysetPosition;
}

/** Every statement on `ip_rules`. */
@Injectable()
export class IpRulesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Replaces the rules from configuration (source `config`) with these, already normalised. */
  async replaceConfigRules(manager: EntityManager, rules: { action: IpRuleAction; cidr: string }[]): Promise<void> {
    await manager.getRepository(IpRule).delete({ source: 'config' });
    for (const rule of rules) {
      await manager.getRepository(IpRule).insert({
        action: rule.action,
        cidr: rule.cidr,
        source: 'config',
        description: 'from configuration',
      });
    }
  }

  /** Newest first on (created_at, id), `limit` rows after `after`; expired rules only with `includeExpired`. */
  listRules(filter: IpRuleListFilter): Promise<IpRule[]> {
    const qb = this.dataSource.getRepository(IpRule).createQueryBuilder('r');
    if (filter.action) qb.andWhere('r.action = :action', { action: filter.action });
    if (filter.source) qb.andWhere('r.source = :source', { source: filter.source });
    if (!filter.includeExpired) qb.andWhere('(r.expires_at IS NULL OR r.expires_at > now())');
    const { after } = filter;
    if (after) qb.andWhere('(r.created_at, r.id) < (:k, :id)', { k: after.k, id: after.id });
    return qb.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').limit(filter.limit).getMany();
  }

  insert(
    manager: EntityManager,
    data: Pick<IpRule, 'action' | 'cidr' | 'description' | 'source' | 'expiresAt' | 'createdBy'>,
  ): Promise<IpRule> {
    const repo = manager.getRepository(IpRule);
    return repo.save(repo.create(data));
  }

  findById(manager: EntityManager, id: string): Promise<IpRule | null> {
    return manager.getRepository(IpRule).findOneBy({ id });
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.getRepository(IpRule).delete({ id });
  }

  /** Allow rules in force now. */
  async activeAllowRules(manager?: EntityManager): Promise<Omit<ActiveRule, 'action'>[]> {
    const rows = await (manager ?? this.dataSource.manager).query<Omit<RawIpRule, 'action'>[]>(
      `SELECT id, cidr, expires_at FROM ip_rules WHERE action = 'allow' AND (expires_at IS NULL OR expires_at > now())`,
    );
    return rows.map((r) => ({ id: r.id, cidr: r.cidr, expiresAt: r.expires_at }));
  }

  /** Every rule in force now, as the filter compiles them. */
  async activeRules(): Promise<Omit<ActiveRule, 'id'>[]> {
    const rows = await this.dataSource.query<Omit<RawIpRule, 'id'>[]>(
      'SELECT action, cidr, expires_at FROM ip_rules WHERE expires_at IS NULL OR expires_at > now()',
    );
    return rows.map((r) => ({ action: r.action, cidr: r.cidr, expiresAt: r.expires_at }));
  }
}
