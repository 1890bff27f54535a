import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.setup';
import { ConfigError, loadConfig } from './common/config/app-config';
import { loadEnvFile } from './common/config/load-env-file';
import { startDatabaseRuntime } from './common/database/database-runtime';

async function main(): Promise<void> {
  const logger = new Logger('Bastion');
  loadEnvFile();
  const config = loadConfig(process.env);
  const startedAt = Date.now();
  const runtime = await startDatabaseRuntime(config);
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp(runtime.config);
    await app.listen(config.http.port, config.http.host);
  } catch (err) {
    await runtime.stop();
    throw err;
  }
  const url = await app.getUrl();
  logger.log(
    `listening on ${url} in ${config.mode} mode (ready in ${Date.now() - startedAt} ms); API docs at ${url}/docs`,
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: finishing in-flight requests, then closing`);
    const timer = setTimeout(() => {
      logger.error(`shutdown took longer than ${config.http.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.http.shutdownTimeoutMs);
    timer.unref();
    app
      .close()
      .then(() => runtime.stop())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error(`shutdown failed: ${String(err)}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(
      `Bastion failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
});
