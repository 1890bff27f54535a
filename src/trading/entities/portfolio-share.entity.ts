import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Group } from '../../users/groups/group.entity';
import { Portfolio } from './portfolio.entity';

export const SHARE_ACCESS = ['read', 'write'] as const;
export type ShareAccess = (typeof SHARE_ACCESS)[number];

/** A portfolio made visible to every member of a group; with `write`, members may also record trades. */
@Entity('portfolio_shares')
@Check('portfolio_shares_access_check', `access IN ('read', 'write')`)
@Index('portfolio_shares_group_idx', ['groupId'])
export class PortfolioShare {
  @PrimaryColumn('uuid')
  portfolioId!: string;

  @PrimaryColumn('uuid')
  groupId!: string;

  @Column({ type: 'uuid', nullable: true })
  sharedBy!: string | null;

  /** `read`: members see it; `write`: members holding `trades:write` may also record trades in it. */
  @Column({ type: 'text', default: 'read' })
  access!: ShareAccess;

  @CreateDateColumn({ type: 'timestamptz' })
  sharedAt!: Date;

  @ManyToOne(() => Portfolio, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'portfolio_id', foreignKeyConstraintName: 'portfolio_shares_portfolio_id_fkey' })
  portfolio?: Portfolio;

  @ManyToOne(() => Group, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'portfolio_shares_group_id_fkey' })
  group?: Group;
}
