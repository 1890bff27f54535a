import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * PostgreSQL compiled to WebAssembly (PGlite), served on 127.0.0.1 by pglite-socket so that the
 * ordinary `pg` driver and TypeORM's `postgres` driver talk to it like to any PostgreSQL.
 *
 * PGlite is single-user: the socket server accepts exactly one connection and the pool that uses
 * it must have exactly one client (see the design brief). Queries run one at a time.
 */
export class EmbeddedDatabase {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
  ) {}

  /**
   * Opens (or creates) the database under `dir`, or an in-memory one when `dir` is undefined,
   * and serves it on a free port of 127.0.0.1.
   */
  static async start(dir?: string): Promise<EmbeddedDatabase> {
    if (dir) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const db = await PGlite.create(dir ? { dataDir: dir } : {});
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    const [host, port] = server.getServerConn().split(':');
    return new EmbeddedDatabase(db, server, `postgres://postgres@${host}:${port}/postgres`);
  }

  static dataPath(dataDir: string): string {
    return join(dataDir, 'pgdata');
  }

  /** Stops serving and closes the engine, flushing everything to disk. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.db.closed) return;
    await this.server.stop();
    await this.db.close();
  }
}
