import { ApiProperty } from '@nestjs/swagger';
import { PageDto } from '../../../common/pagination/pagination';
import type { AuditActorType, AuditEntry, AuditOutcome } from '../audit-chain';
import type { AuditEvent } from '../audit-event.entity';

export const AUDIT_ACTOR_TYPES: readonly AuditActorType[] = ['user', 'api_key', 'system'];
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied'];

/** One audit log entry, exactly as stored and hashed. */
export class AuditEventDto implements AuditEntry {
  @ApiProperty({ format: 'uuid', example: '0b5f6d8e-5c1a-4a55-9b8e-1f2d3c4b5a69' })
  id!: string;

  @ApiProperty({
    example: '1042',
    pattern: '^[0-9]+$',
    description: 'Position in the hash chain: a 64-bit integer as a decimal string, increasing with each entry.',
  })
  seq!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-28T12:00:00.000Z' })
  occurredAt!: string;

  @ApiProperty({ enum: AUDIT_ACTOR_TYPES, enumName: 'AuditActorType', example: 'user' })
  actorType!: AuditActorType;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '9d2c1a7e-3f4b-4c5d-8e6f-7a8b9c0d1e2f',
    description: 'User id, API key id, or the component name for `system`.',
  })
  actorId!: string | null;

  @ApiProperty({ example: 'user.roles.changed', description: 'What happened.' })
  action!: string;

  @ApiProperty({ type: String, nullable: true, example: 'user' })
  targetType!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '4c3b2a19-0f8e-4d7c-9b6a-5f4e3d2c1b0a' })
  targetId!: string | null;

  @ApiProperty({
    enum: AUDIT_OUTCOMES,
    enumName: 'AuditOutcome',
    example: 'success',
    description: '`denied`: refused by authorisation; `failure`: attempted and failed.',
  })
  outcome!: AuditOutcome;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7', description: 'Client address.' })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '4f1c9c3e-0a55-4e0b-9d0e-8d0f7b3c2a11' })
  requestId!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { before: ['viewer'], after: ['viewer', 'trader'] },
    description: 'Action-specific facts; secrets are redacted before they are stored.',
  })
  details!: Record<string, unknown>;

  @ApiProperty({
    example: '0'.repeat(64),
    pattern: '^[0-9a-f]{64}$',
    description: '`hash` of the previous entry (64 zeros for the first).',
  })
  prevHash!: string;

  @ApiProperty({
    example: '3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b',
    pattern: '^[0-9a-f]{64}$',
    description:
      'HMAC-SHA256 under the chain key of `keyVersion` (plain SHA-256 when `keyVersion` is 0) over `prevHash` and every other field of this entry.',
  })
  hash!: string;

  @ApiProperty({
    type: 'integer',
    example: 1,
    minimum: 0,
    description:
      'Version of the audit chain key (derived from the master key) that `hash` is an HMAC under; 0: plain SHA-256, an entry written before the chain was keyed.',
  })
  keyVersion!: number;
}

export class AuditEventPageDto extends PageDto(AuditEventDto) {}

/** A row as the API shows it (and as the chain hashes it). */
export function mapAuditEvent(row: AuditEvent): AuditEventDto {
  return {
    id: row.id,
    seq: String(row.seq),
    occurredAt: new Date(row.occurredAt).toISOString(),
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    outcome: row.outcome,
    ip: row.ip,
    requestId: row.requestId,
    details: row.details,
    prevHash: row.prevHash,
    hash: row.hash,
    keyVersion: Number(row.keyVersion ?? 0),
  };
}
