import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('group_members')
export class GroupMember {
  @PrimaryColumn('uuid')
  groupId!: string;

  @PrimaryColumn('uuid')
  userId!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  addedAt!: Date;
}
