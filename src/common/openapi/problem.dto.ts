import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode } from '../errors/error-code';

export class FieldErrorDto {
  @ApiProperty({ description: 'Dotted path of the offending field; empty for the body as a whole.', example: 'email' })
  field!: string;

  @ApiProperty({ example: 'email must be an email' })
  message!: string;
}

/** The body of every error response (RFC 9457 problem details). */
export class ProblemDto {
  @ApiProperty({
    description: 'Identifies the kind of problem; stable.',
    example: 'urn:bastion:problem:validation-failed',
  })
  type!: string;

  @ApiProperty({ example: 'Validation failed' })
  title!: string;

  @ApiProperty({ example: 400 })
  status!: number;

  @ApiProperty({
    description: 'What went wrong in this occurrence, for humans.',
    example: 'The request is not valid; see errors for each field.',
  })
  detail!: string;

  @ApiProperty({ description: 'The path the problem occurred on (always present).', example: '/api/v1/users' })
  instance!: string;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', description: 'Stable machine-readable code: branch on this.' })
  code!: ErrorCode;

  @ApiProperty({
    description: 'The request id (also in the X-Request-Id header); quote it when reporting a problem.',
    example: '4f1c9c3e-0a55-4e0b-9d0e-8d0f7b3c2a11',
  })
  requestId!: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    description: 'One entry per invalid field (validation problems only).',
  })
  errors?: FieldErrorDto[];

  // Extension members: present only on the problems named in each description.

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    example: 2,
    description: 'INVALID_MFA_CODE: code attempts left on this MFA token before it is spent.',
  })
  attemptsRemaining?: number;

  @ApiPropertyOptional({
    type: [String],
    example: ['min-length', 'common-password'],
    description: 'WEAK_PASSWORD: the password-policy rules the password breaks.',
  })
  rules?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['users:read'],
    description: 'FORBIDDEN: the permissions the caller lacks for this operation.',
  })
  missingPermissions?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['trades:read'],
    description: 'FORBIDDEN on a report: the permissions its data source reads and the caller lacks.',
  })
  missing?: string[];

  @ApiPropertyOptional({
    example: 'ip',
    description:
      'RATE_LIMITED: the limit that was hit: `ip` (per client address), `user` or `key` (per caller), `auth:<route>` (sign-in routes, per address).',
  })
  limit?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['database'],
    description: 'SERVICE_UNAVAILABLE from /health/ready: the checks that fail.',
  })
  failing?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['redis'],
    description: 'SERVICE_UNAVAILABLE from /health/ready: the checks that are degraded.',
  })
  degraded?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'SERVICE_UNAVAILABLE from /health/ready, for callers with `metrics:read`: each check with its figures.',
  })
  checks?: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'database',
    description: 'DEPENDENCY_UNAVAILABLE: the dependency that failed (database, redis, ...).',
  })
  dependency?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { '1': 12, legacy: 0 },
    description: 'CONFLICT on a key update: stored items each key version still protects.',
  })
  protectedData?: Record<string, number>;

  @ApiPropertyOptional({
    type: [String],
    example: ['encrypt', 'decrypt'],
    description: 'KEY_OPERATION_NOT_ALLOWED: the operations the key allows.',
  })
  allowedOperations?: string[];
}
