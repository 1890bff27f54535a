import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { readPackageVersion } from '../../common/version';
import type { DatabaseStatusDto, StatusDto } from '../dto/status.dto';

@Injectable()
export class StatusService {
  private readonly startedAt = new Date();
  private database?: DatabaseStatusDto;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async status(): Promise<StatusDto> {
    return {
      version: readPackageVersion(),
      uptimeSeconds: Math.floor((Date.now() - this.startedAt.getTime()) / 1000),
      startedAt: this.startedAt.toISOString(),
      mode: this.config.mode,
      database: await this.databaseStatus(),
      node: process.version,
    };
  }

  /** The server's version does not change while we are connected to it: asked once. */
  private async databaseStatus(): Promise<DatabaseStatusDto> {
    if (!this.database) {
      const [row] = await this.dataSource.query<{ full: string; short: string }[]>(
        'SELECT version() AS full, current_setting($1) AS short',
        ['server_version'],
      );
      this.database = { engine: /PGlite/i.test(row.full) ? 'pglite' : 'postgresql', version: row.short.split(' ')[0] };
    }
    return this.database;
  }
}
