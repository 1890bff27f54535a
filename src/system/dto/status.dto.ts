import { ApiProperty } from '@nestjs/swagger';

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
  @ApiProperty({ example: '0.1.0', description: 'Bastion version.' })
  version!: string;

  @ApiProperty({ example: 3600, description: 'Seconds since this instance started.' })
  uptimeSeconds!: number;

  @ApiProperty({ example: '2026-11-28T12:00:00.000Z', format: 'date-time' })
  startedAt!: string;

  @ApiProperty({
    enum: ['embedded', 'cluster'],
    description: 'embedded: PGlite under DATA_DIR; cluster: PostgreSQL from DATABASE_URL.',
  })
  mode!: 'embedded' | 'cluster';

  @ApiProperty({ type: DatabaseStatusDto })
  database!: DatabaseStatusDto;

  @ApiProperty({ example: 'v20.20.2', description: 'Node.js version.' })
  node!: string;
}

export class HealthCheckDto {
  @ApiProperty({ enum: ['ok', 'error'], example: 'ok' })
  status!: 'ok' | 'error';

  @ApiProperty({
    description: 'Each check by name with its status and figures.',
    example: {
      database: { status: 'up' },
      heap: { status: 'up' },
      storage: { status: 'up', freeMb: 51200, minFreeMb: 256 },
    },
    type: 'object',
    additionalProperties: true,
  })
  checks!: Record<string, Record<string, unknown>>;
}
