import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A set of users: the unit permissions are granted to and portfolios are shared with. */
@Entity('groups')
@Index('groups_name_key', { synchronize: false }) // unique on lower(name): declared in the migration
export class Group {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 500, default: '' })
  description!: string;

  /** Permission names granted to every member; the security module owns their meaning. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  permissions!: string[];

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
