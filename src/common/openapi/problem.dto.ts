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

  @ApiPropertyOptional({ description: 'The path the problem occurred on.', example: '/api/v1/users' })
  instance?: string;

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
}
