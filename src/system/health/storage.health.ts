import { statfs } from 'node:fs/promises';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

/** Free space on the filesystem that holds DATA_DIR (embedded database, report files). */
@Injectable()
export class StorageHealthIndicator {
  constructor(private readonly indicators: HealthIndicatorService) {}

  async check(key: string, path: string, minFreeBytes: number) {
    const indicator = this.indicators.check(key);
    try {
      const stats = await statfs(path);
      const freeBytes = Number(stats.bavail) * Number(stats.bsize);
      const data = { freeMb: Math.floor(freeBytes / 1024 / 1024), minFreeMb: Math.floor(minFreeBytes / 1024 / 1024) };
      return freeBytes >= minFreeBytes
        ? indicator.up(data)
        : indicator.down({ ...data, message: 'free disk space below threshold' });
    } catch {
      return indicator.down({ message: 'data directory is not readable' });
    }
  }
}
