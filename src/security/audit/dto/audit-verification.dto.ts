import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import type { ChainScheme } from '../audit-chain';

export type AuditVerificationFailureReason =
  'hash_mismatch' | 'broken_link' | 'head_mismatch' | 'scheme_downgrade' | 'unknown_key' | 'unkeyed_head';

export const AUDIT_VERIFICATION_FAILURE_REASONS: readonly AuditVerificationFailureReason[] = [
  'hash_mismatch',
  'broken_link',
  'head_mismatch',
  'scheme_downgrade',
  'unknown_key',
  'unkeyed_head',
];

const CHAIN_SCHEMES: readonly ChainScheme[] = ['sha256', 'hmac-sha256'];

/** A run of consecutive entries hashed with one scheme (and one key version). */
export class AuditChainSegmentDto {
  @ApiProperty({
    enum: CHAIN_SCHEMES,
    enumName: 'AuditChainScheme',
    description:
      '`hmac-sha256`: keyed under the chain key of `keyVersion`; `sha256`: plain SHA-256, entries written before the chain was keyed.',
  })
  scheme!: ChainScheme;

  @ApiProperty({ type: 'integer', example: 1, description: '0 for `sha256`.' })
  keyVersion!: number;

  @ApiProperty({ example: '1', pattern: '^[0-9]+$' })
  firstSeq!: string;

  @ApiProperty({ example: '1042', pattern: '^[0-9]+$' })
  lastSeq!: string;

  @ApiProperty({ type: 'integer', example: 1042 })
  entries!: number;
}

/** The first entry at which the chain stops being trustworthy. */
export class AuditChainBreakDto {
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The offending entry; null when it is missing (the newest entries were removed).',
  })
  id!: string | null;

  @ApiProperty({ example: '1042', pattern: '^[0-9]+$', description: 'Its position in the chain.' })
  seq!: string;

  @ApiProperty({
    enum: AUDIT_VERIFICATION_FAILURE_REASONS,
    enumName: 'AuditVerificationFailureReason',
    description: [
      '`hash_mismatch`: the entry was altered after it was written.',
      '`broken_link`: the entry does not follow the one before it (an entry was removed, inserted or re-hashed).',
      '`head_mismatch`: the chain does not end where the chain head says (newest entries removed, or entries past the head).',
      '`scheme_downgrade`: an unkeyed (or older-key) entry follows a keyed one: history was rewritten without the key.',
      '`unknown_key`: the entry names a chain key version this instance does not hold.',
      '`unkeyed_head`: the chain ends with unkeyed entries although every new entry is keyed: it was rewritten without the key.',
    ].join(' '),
  })
  reason!: AuditVerificationFailureReason;
}

/** The verdict of `GET /api/v1/audit-events/verify`. */
export class AuditVerificationDto {
  @ApiProperty({
    description: 'True when every entry is intact, linked to its predecessor, and the chain ends at the head.',
  })
  valid!: boolean;

  @ApiProperty({
    type: 'integer',
    example: 1042,
    description: 'Entries verified intact (before the first invalid one, if any).',
  })
  checked!: number;

  @ApiPropertyOptional({
    example: '1042',
    pattern: '^[0-9]+$',
    description: 'When valid: `seq` of the newest entry verified ("0" for an empty log).',
  })
  headSeq?: string;

  @ApiPropertyOptional({
    pattern: '^[0-9a-f]{64}$',
    description:
      'When valid: `hash` of the newest entry verified. Keep it outside Bastion as an anchor: a later verification must reach a chain that still contains it.',
  })
  headHash?: string;

  @ApiPropertyOptional({ type: AuditChainBreakDto, description: 'When not valid: where the chain breaks.' })
  firstInvalid?: AuditChainBreakDto;

  @ApiProperty({
    type: [AuditChainSegmentDto],
    description:
      'The entries verified intact, oldest first, in runs by hashing scheme: an unkeyed `sha256` prefix (entries written before the chain was keyed), then `hmac-sha256` runs by key version.',
  })
  segments!: AuditChainSegmentDto[];
}
