import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class DatabaseStatusDto {
  @ApiProperty({
    enum: ['postgresql', 'pglite'],
    description: 'pglite is PostgreSQL compiled to WebAssembly (embedded mode).',
  })
  engine!: 'postgresql' | 'pglite';

  @ApiProperty({ example: '15.20', description: 'PostgreSQL server version.' })
  version!: string;
}

export class StatusDto {
  @ApiProperty({
    enum: ['ok', 'degraded', 'error'],
    description:
      'ok: every check passes; degraded: serving without an optional dependency (Redis); error: not ready (see /health/ready).',
  })
  status!: 'ok' | 'degraded' | 'error';

  @ApiPropertyOptional({ example: '0.1.0', description: 'Bastion version (needs `metrics:read`).' })
  version?: string;

  @ApiPropertyOptional({ example: 3600, description: 'Seconds since this instance started (needs `metrics:read`).' })
  uptimeSeconds?: number;

  @ApiPropertyOptional({
    example: '2026-11-28T12:00:00.000Z',
    format: 'date-time',
    description: 'Needs `metrics:read`.',
  })
  startedAt?: string;

  @ApiPropertyOptional({
    enum: ['embedded', 'cluster'],
    description: 'embedded: PGlite under DATA_DIR; cluster: PostgreSQL from DATABASE_URL (needs `metrics:read`).',
  })
  mode?: 'embedded' | 'cluster';

  @ApiPropertyOptional({
    type: DatabaseStatusDto,
    description: 'Needs `metrics:read`; absent while the database is unreachable.',
  })
  database?: DatabaseStatusDto;

  @ApiPropertyOptional({ example: 'v20.20.2', description: 'Node.js version (needs `metrics:read`).' })
  node?: string;
}

export class LivenessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status!: 'ok';

  @ApiProperty({ type: 'object', additionalProperties: true, example: {} })
  checks!: Record<string, never>;
}

export class HealthCheckDto {
  @ApiProperty({
    enum: ['ok', 'degraded'],
    example: 'ok',
    description: 'degraded: ready, but an optional dependency (Redis) is down and the process works around it.',
  })
  status!: 'ok' | 'degraded';

  @ApiPropertyOptional({
    type: [String],
    example: ['redis'],
    description: 'Checks in the degraded state (present when any).',
  })
  degraded?: string[];

  @ApiPropertyOptional({
    description:
      'Each check by name with its status and figures: only for callers with `metrics:read` (anonymous callers get the state and the names of failing or degraded checks).',
    example: {
      database: { status: 'up' },
      redis: { status: 'degraded', message: 'unreachable: rate limits counted in process' },
      heap: { status: 'up', usedMb: 120, limitMb: 1536 },
      storage: { status: 'up', freeMb: 51200, minFreeMb: 256 },
    },
    type: 'object',
    additionalProperties: true,
  })
  checks?: Record<string, Record<string, unknown>>;
}
