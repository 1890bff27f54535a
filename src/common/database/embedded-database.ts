import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The engine's thread: PGlite (PostgreSQL compiled to WebAssembly) and pglite-socket's server,
 * listening on a Unix socket. Plain CommonJS evaluated as a worker, so it runs the same from
 * `dist/`, from `src/` through @swc-node and under Jest, with the packages resolved by the parent.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { rmSync } = require('node:fs');
const { PGlite } = require(workerData.pgliteModule);
const { PGLiteSocketServer } = require(workerData.socketModule);
let db;
let server;
async function stop() {
  if (server) await server.stop();
  if (db && !db.closed) await db.close();
}
parentPort.on('message', (msg) => {
  if (msg.type !== 'stop') return;
  stop().then(
    () => parentPort.postMessage({ type: 'stopped' }),
    (err) => parentPort.postMessage({ type: 'stopped', error: String((err && err.message) || err) }),
  );
});
(async () => {
  try {
    db = await PGlite.create(workerData.dataDir ? { dataDir: workerData.dataDir } : {});
    rmSync(workerData.socketPath, { force: true }); // left by a process that was killed; we hold the lock
    server = new PGLiteSocketServer({ db, path: workerData.socketPath, maxConnections: 1, idleTimeout: 0 });
    await server.start();
    parentPort.postMessage({ type: 'ready' });
  } catch (err) {
    parentPort.postMessage({ type: 'failed', message: String((err && err.message) || err), code: err && err.code });
  }
})();
`;

/** Unix socket paths are limited to 107 bytes (108 with the terminating NUL) on Linux. */
const MAX_SOCKET_PATH = 107;
/** pg finds the socket as `<host>/.s.PGSQL.<port>`, the name PostgreSQL itself uses. */
const SOCKET_PORT = 5432;

interface WorkerMessage {
  type: 'ready' | 'failed' | 'stopped';
  message?: string;
  code?: string;
  error?: string;
}

/**
 * PostgreSQL compiled to WebAssembly (PGlite), run in a worker thread so that a long query never
 * blocks the API's event loop, and served by pglite-socket on a Unix socket in a directory only
 * this user can enter (0700): no TCP port, so nothing else on the machine can reach it. The
 * ordinary `pg` driver and TypeORM talk to it like to any PostgreSQL.
 *
 * PGlite is single-user: the socket server accepts exactly one connection and the pool that uses
 * it must have exactly one client, kept open (see the design brief). Queries run one at a time.
 */
export class EmbeddedDatabase {
  private stopping?: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    readonly socketDir: string,
    private readonly ownsSocketDir: boolean,
    readonly url: string,
  ) {}

  /**
   * Opens (or creates) the database under `dir`, or an in-memory one when `dir` is undefined, and
   * serves it on `<socketDir>/.s.PGSQL.5432` (default: `run/` beside `dir`, or a fresh temporary
   * directory for an in-memory database).
   */
  static async start(dir?: string, socketDir?: string): Promise<EmbeddedDatabase> {
    if (dir) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ownsSocketDir = !socketDir && !dir;
    const sockets = socketDir ?? (dir ? join(dirname(dir), 'run') : mkdtempSync(join(tmpdir(), 'bastion-pg-')));
    mkdirSync(sockets, { recursive: true, mode: 0o700 });
    chmodSync(sockets, 0o700);
    const socketPath = join(sockets, `.s.PGSQL.${SOCKET_PORT}`);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new Error(
        `the embedded database's socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes: use a shorter DATA_DIR`,
      );
    }
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        dataDir: dir,
        socketPath,
        pgliteModule: require.resolve('@electric-sql/pglite'),
        socketModule: require.resolve('@electric-sql/pglite-socket'),
      },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onExit = (code: number): void => reject(new Error(`the embedded database thread exited (${code})`));
        worker.once('error', reject);
        worker.once('exit', onExit);
        worker.once('message', (msg: WorkerMessage) => {
          worker.off('error', reject);
          worker.off('exit', onExit);
          if (msg.type === 'ready') resolve();
          else
            reject(
              Object.assign(new Error(msg.message ?? 'the embedded database failed to start'), { code: msg.code }),
            );
        });
      });
    } catch (err) {
      await worker.terminate();
      if (ownsSocketDir) rmSync(sockets, { recursive: true, force: true });
      throw err;
    }
    const url = `postgres://postgres@localhost:${SOCKET_PORT}/postgres?host=${encodeURIComponent(sockets)}`;
    return new EmbeddedDatabase(worker, sockets, ownsSocketDir, url);
  }

  static dataPath(dataDir: string): string {
    return join(dataDir, 'pgdata');
  }

  /** Stops serving and closes the engine, flushing everything to disk. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve, reject) => {
      this.worker.once('message', (msg: WorkerMessage) => {
        void this.worker.terminate().then(() => {
          if (this.ownsSocketDir) rmSync(this.socketDir, { recursive: true, force: true });
          if (msg.error) reject(new Error(`closing the embedded database failed: ${msg.error}`));
          else resolve();
        });
      });
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'stop' });
    });
    return this.stopping;
  }
}

/** pg-style connection settings for a URL, with a Unix-socket directory given as `?host=`. */
export function socketConnection(
  url: string,
): { host: string; port: number; username: string; database: string } | undefined {
  const parsed = new URL(url);
  const host = parsed.searchParams.get('host');
  if (!host?.startsWith('/')) return undefined;
  return {
    host,
    port: Number(parsed.port || SOCKET_PORT),
    username: decodeURIComponent(parsed.username || 'postgres'),
    database: decodeURIComponent(parsed.pathname.slice(1) || 'postgres'),
  };
}
