import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface StoredSample {
  instance: string;
  at: Date;
  values: Record<string, number>;
}

export interface SeriesPoint {
  instance: string;
  key: string;
  t: Date;
  v: number;
}

/** Metric samples: raw rows (`monitoring_samples`) and 1-minute averages (`monitoring_samples_1m`). */
@Injectable()
export class SamplesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(instance: string, at: Date, values: Record<string, number>): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO monitoring_samples (instance, at, data) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING`,
      [instance, at, JSON.stringify(values)],
    );
  }

  /** The newest sample of every instance taken since `since`. */
  async latestPerInstance(since: Date): Promise<StoredSample[]> {
    const rows = await this.dataSource.query<{ instance: string; at: Date; data: Record<string, number> }[]>(
      `SELECT DISTINCT ON (instance) instance, at, data FROM monitoring_samples
        WHERE at >= $1 ORDER BY instance, at DESC`,
      [since],
    );
    return rows.map((r) => ({ instance: r.instance, at: new Date(r.at), values: r.data }));
  }

  /**
   * Averages of the given series keys per `stepSeconds` bucket between `from` and `to`, from the
   * raw table or from the 1-minute averages.
   */
  async series(
    keys: string[],
    from: Date,
    to: Date,
    stepSeconds: number,
    source: 'raw' | 'rollup',
  ): Promise<SeriesPoint[]> {
    const table = source === 'raw' ? 'monitoring_samples' : 'monitoring_samples_1m';
    const time = source === 'raw' ? 'at' : 'bucket';
    const rows = await this.dataSource.query<{ instance: string; key: string; t: Date; v: number }[]>(
      `SELECT s.instance, kv.key,
              to_timestamp(floor(extract(epoch FROM s.${time}) / $4) * $4) AS t,
              avg((kv.value #>> '{}')::double precision) AS v
         FROM ${table} s
         CROSS JOIN LATERAL jsonb_each(s.data) kv
        WHERE s.${time} >= $1 AND s.${time} < $2 AND kv.key = ANY($3::text[])
        GROUP BY s.instance, kv.key, t
        ORDER BY s.instance, kv.key, t`,
      [from, to, keys, stepSeconds],
    );
    return rows.map((r) => ({ instance: r.instance, key: r.key, t: new Date(r.t), v: Number(r.v) }));
  }

  /** Every series key stored for a metric name since `since` (labelled series of the metric). */
  async keysLike(metric: string, since: Date): Promise<string[]> {
    const rows = await this.dataSource.query<{ key: string }[]>(
      `SELECT DISTINCT kv.key FROM monitoring_samples s CROSS JOIN LATERAL jsonb_object_keys(s.data) kv(key)
        WHERE s.at >= $1 AND (kv.key = $2 OR kv.key LIKE $3) LIMIT 500`,
      [since, metric, `${metric}{%`],
    );
    return rows.map((r) => r.key);
  }

  /** Averages raw samples of whole minutes in [from, to) into `monitoring_samples_1m` (idempotent). */
  async rollUp(from: Date, to: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO monitoring_samples_1m (instance, bucket, data, samples)
       SELECT instance, bucket, jsonb_object_agg(key, v), max(n)
         FROM (SELECT s.instance, date_trunc('minute', s.at) AS bucket, kv.key,
                      avg((kv.value #>> '{}')::double precision) AS v, count(*)::int AS n
                 FROM monitoring_samples s CROSS JOIN LATERAL jsonb_each(s.data) kv
                WHERE s.at >= $1 AND s.at < $2 AND jsonb_typeof(kv.value) = 'number'
                GROUP BY s.instance, bucket, kv.key) t
        GROUP BY instance, bucket
       ON CONFLICT (instance, bucket) DO UPDATE SET data = EXCLUDED.data, samples = EXCLUDED.samples`,
      [from, to],
    );
  }

  async prune(rawBefore: Date, rollupBefore: Date): Promise<void> {
    await this.dataSource.query(`DELETE FROM monitoring_samples WHERE at < $1`, [rawBefore]);
    await this.dataSource.query(`DELETE FROM monitoring_samples_1m WHERE bucket < $1`, [rollupBefore]);
  }

  /** Claims `slot` of a job for this instance: true for exactly one caller per job and slot. */
  async claim(job: string, slot: number, instance: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO monitoring_claims (job, slot, claimed_by) VALUES ($1, $2, $3)
       ON CONFLICT (job) DO UPDATE SET slot = EXCLUDED.slot, claimed_by = EXCLUDED.claimed_by, claimed_at = now()
         WHERE monitoring_claims.slot < EXCLUDED.slot
       RETURNING job`,
      [job, slot, instance],
    );
    return rows.length === 1;
  }

  async ping(): Promise<number> {
    const start = performance.now();
    await this.dataSource.query('SELECT 1');
    return performance.now() - start;
  }

  /** Connections of the pool: in use, idle, waiting (pg's Pool; embedded mode has one). */
  pool(): { inUse: number; idle: number; waiting: number } | undefined {
    const pool = (this.dataSource.driver as unknown as { master?: PgPoolLike }).master;
    if (!pool || typeof pool.totalCount !== 'number') return undefined;
    return { inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount };
  }
}

interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}
