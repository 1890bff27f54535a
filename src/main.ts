import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from './app.setup';
import { type AppConfig, ConfigError, loadConfig } from './common/config/app-config';
import { loadEnvFile } from './common/config/load-env-file';
import { type DatabaseRuntime, startDatabaseRuntime } from './common/database/database-runtime';
import { BootLogger } from './common/startup/boot-logger';
import { assemblyFailure, databaseFailure, StartupError } from './common/startup/startup-error';
import { BootstrapAdminService } from './security/bootstrap/bootstrap-admin.service';

/** Exit codes: 0 clean stop; 1 start-up or shutdown failure; 3 requests were cut by the shutdown timeout. */
const EXIT_START_FAILED = 1;
const EXIT_SHUTDOWN_TIMEOUT = 3;

async function main(): Promise<void> {
  Logger.overrideLogger(new BootLogger()); // JSON lines until the app's pino logger takes over
  const logger = new Logger('Bastion');
  loadEnvFile();
  const config = loadConfig(process.env);
  const startedAt = Date.now();
  const runtime = await startDatabaseRuntime(config);
  let app: NestExpressApplication;
  try {
    app = await createApp(runtime.config);
    await app.listen(config.http.port, config.http.host).catch((err: unknown) => {
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new StartupError(
          `cannot listen on ${config.http.host}:${config.http.port} (${code})`,
          'PORT/HOST',
          code === 'EADDRINUSE' ? 'another process uses that port: stop it or set PORT' : 'choose another PORT or HOST',
          { cause: err },
        );
      }
      throw err;
    });
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  // Before anything else can answer: a SIGTERM right after the first ready probe must drain, not kill.
  installShutdown(app, runtime, config, logger);
  const url = await app.getUrl();
  logger.log(
    `listening on ${url} in ${config.mode} mode (ready in ${Date.now() - startedAt} ms); API docs at ${url}/docs`,
  );
  // After the log line above has been written (pino writes asynchronously), never before listening.
  await new Promise((resolve) => setTimeout(resolve, 100));
  app.get(BootstrapAdminService, { strict: false }).announce(url);
}

/**
 * SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish, then close the
 * database pool, Redis and the embedded engine. Requests still running at SHUTDOWN_TIMEOUT_MS
 * are cut: their connections are destroyed, so their transactions roll back, and the process
 * exits with EXIT_SHUTDOWN_TIMEOUT (3) so a supervisor can tell.
 */
function installShutdown(
  app: NestExpressApplication,
  runtime: DatabaseRuntime,
  config: AppConfig,
  logger: Logger,
): void {
  const server = app.getHttpServer();
  let inFlight = 0;
  server.on('request', (_req, res: import('node:http').ServerResponse) => {
    inFlight += 1;
    res.once('close', () => (inFlight -= 1));
  });
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: finishing ${inFlight} in-flight request(s), then closing`);
    const timer = setTimeout(() => {
      logger.error(
        `shutdown: ${inFlight} request(s) still running after SHUTDOWN_TIMEOUT_MS=${config.http.shutdownTimeoutMs} ms were cut (their transactions roll back); exiting with code ${EXIT_SHUTDOWN_TIMEOUT}`,
      );
      server.closeAllConnections();
      // Closing the engine ends its one connection: PostgreSQL rolls back what was not committed.
      void Promise.race([runtime.stop(), new Promise((r) => setTimeout(r, 2000))]).finally(() =>
        process.exit(EXIT_SHUTDOWN_TIMEOUT),
      );
    }, config.http.shutdownTimeoutMs);
    timer.unref();
    // Idle keep-alive connections would hold server.close() open until they time out.
    server.closeIdleConnections();
    app
      .close() // waits for in-flight requests, then closes the pool and Redis (shutdown hooks)
      .then(() => runtime.stop())
      .then(() => {
        logger.log('stopped cleanly');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(EXIT_START_FAILED);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/** One line on stderr for the operator, one JSON entry on stdout for the log pipeline; no stack. */
function reportStartFailure(failure: unknown): void {
  let line: string;
  let entry: Record<string, unknown>;
  // Errors start-up did not map where they arose, but whose kind says what to do.
  const err =
    failure instanceof StartupError ? failure : (databaseFailure(failure) ?? assemblyFailure(failure) ?? failure);
  if (err instanceof StartupError) {
    line = `Bastion failed to start: ${err.message}`;
    const cause = err.cause instanceof Error ? err.cause : undefined;
    entry = {
      what: err.what,
      setting: err.setting,
      hint: err.hint,
      ...(cause ? { cause: cause.message, stack: cause.stack } : {}),
    };
  } else if (err instanceof ConfigError) {
    line = `Bastion failed to start: invalid configuration: ${err.problems.join('; ')}`;
    entry = { what: 'invalid configuration', problems: err.problems, hint: 'fix the settings named above' };
  } else {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    line = `Bastion failed to start: ${message} (see the log entry for details)`;
    entry = {
      what: message,
      hint: 'unexpected: report it with this log entry',
      stack: err instanceof Error ? err.stack : undefined,
    };
  }
  process.stderr.write(`${line}\n`);
  process.stdout.write(
    `${JSON.stringify({ level: 60, time: Date.now(), pid: process.pid, context: 'Bastion', msg: line, ...entry })}\n`,
  );
}

main().catch((err: unknown) => {
  reportStartFailure(err);
  process.exit(EXIT_START_FAILED);
});
