import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Group } from '../../users/entities/group.entity';
import { Portfolio } from './portfolio.entity';

/** A portfolio made visible to every member of a group. */
@Entity('portfolio_shares')
@Index('portfolio_shares_group_idx', ['groupId'])
export class PortfolioShare {
  @PrimaryColumn('uuid')
  portfolioId!: string;

  @PrimaryColumn('uuid')
  groupId!: string;

  @Column({ type: 'uuid', nullable: true })
  sharedBy!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  sharedAt!: Date;

  @ManyToOne(() => Portfolio, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'portfolio_id', foreignKeyConstraintName: 'portfolio_shares_portfolio_id_fkey' })
  portfolio?: Portfolio;

  @ManyToOne(() => Group, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'portfolio_shares_group_id_fkey' })
  group?: Group;
}
