import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import type { AppConfig } from '../../common/config/app-config';

/** The engine refuses (closes the connection on) a message this many times LIVE_MAX_MESSAGE_BYTES. */
export const HARD_MESSAGE_LIMIT_FACTOR = 16;

/**
 * Socket.IO on the HTTP server of the application (same port as REST), with the gateway's
 * transport limits and the same CORS origins as REST; in cluster mode (REDIS_URL) the Redis
 * adapter carries room broadcasts between instances, under REDIS_KEY_PREFIX.
 */
export class LiveIoAdapter extends IoAdapter {
  private readonly redisLogger = new Logger('LiveGateway');
  private readonly redis: Redis[] = [];

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const origins = this.config.http.corsOrigins;
    const server = super.createIOServer(port, {
      ...options,
      serveClient: false,
      maxHttpBufferSize: this.config.live.maxMessageBytes * HARD_MESSAGE_LIMIT_FACTOR,
      // Only browsers polling across origins need CORS headers: the same origins as REST, or none.
      ...(origins.length > 0
        ? { cors: { origin: origins.includes('*') ? true : origins, credentials: !origins.includes('*') } }
        : {}),
    } as ServerOptions);
    if (this.config.redisUrl) {
      const pub = new Redis(this.config.redisUrl, { maxRetriesPerRequest: 2 });
      const sub = pub.duplicate();
      for (const client of [pub, sub]) {
        client.on('error', (err: Error) => this.redisLogger.warn(`redis: ${err.message}`));
        this.redis.push(client);
      }
      server.adapter(createAdapter(pub, sub, { key: `${this.config.redisKeyPrefix}live` }));
    }
    return server;
  }

  override async dispose(): Promise<void> {
    await Promise.all(this.redis.map((c) => c.quit().catch(() => undefined)));
    this.redis.length = 0;
  }
}
