import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The single row (id 1) naming the newest audit entry: its `seq` and `hash`. Appends lock it
 * (`SELECT ... FOR UPDATE`), which serialises writers across connections and instances, and
 * move it forward in the same transaction. Verification compares the end of the chain with it,
 * so deleting the newest entries is detected too.
 */
@Entity('audit_chain_head')
@Check('audit_chain_head_single_row', 'id = 1')
export class AuditChainHead {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  /** `seq` of the newest entry, '0' while the log is empty. */
  @Column({ type: 'bigint' })
  seq!: string;

  /** `hash` of the newest entry, `GENESIS_HASH` while the log is empty. */
  @Column({ type: 'char', length: 64 })
  hash!: string;
}
