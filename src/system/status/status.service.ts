import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { readPackageVersion } from '../../common/version';
import type { DatabaseStatusDto, StatusDto } from './dto/status.dto';
import { DatabaseRepository } from '../health/database.repository';
import { ReadinessService } from '../health/readiness.service';

/** The permission that reveals versions, mode and figures (they help an attacker pick exploits). */
export const FIGURES_PERMISSION = 'metrics:read' as const;

/** Whether the (optionally authenticated) caller may see versions, mode and figures. */
export function mayReadFigures(req: Request): boolean {
  return req.principal?.permissions.has(FIGURES_PERMISSION) === true;
}

@Injectable()
export class StatusService {
  private readonly startedAt = new Date();
  private database?: DatabaseStatusDto;

  constructor(
    private readonly db: DatabaseRepository,
    @InjectConfig() private readonly config: AppConfig,
    private readonly readiness: ReadinessService,
  ) {}

  async status(detailed: boolean): Promise<StatusDto> {
    const { status } = await this.readiness.check();
    if (!detailed) return { status };
    return {
      status,
      version: readPackageVersion(),
      uptimeSeconds: Math.floor((Date.now() - this.startedAt.getTime()) / 1000),
      startedAt: this.startedAt.toISOString(),
      mode: this.config.mode,
      database: await this.databaseStatus().catch(() => undefined),
      node: process.version,
    };
  }

  /** The server's version does not change while we are connected to it: asked once. */
  private async databaseStatus(): Promise<DatabaseStatusDto> {
    if (!this.database) {
      const row = await this.db.serverVersion();
      this.database = { engine: /PGlite/i.test(row.full) ? 'pglite' : 'postgresql', version: row.short.split(' ')[0] };
    }
    return this.database;
  }
}
