import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** The statements the health probes and the status page send to the database itself. */
@Injectable()
export class DatabaseRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The readiness probe's round trip: resolves when the database answers. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  /** The server's engine and version, e.g. `{ full: 'PostgreSQL 17.2 on …', short: '17.2' }`. */
  async serverVersion(): Promise<{ full: string; short: string }> {
    const [row] = await this.dataSource.query<{ full: string; short: string }[]>(
      'SELECT version() AS full, current_setting($1) AS short',
      ['server_version'],
    );
    return row;
  }
}
