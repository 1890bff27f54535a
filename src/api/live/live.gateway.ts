import { type BeforeApplicationShutdown, Logger } from '@nestjs/common';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { ErrorCode } from '../../common/errors/error-code';
import { LiveAuthService } from './live-auth.service';
import { bufferedPackets, type LiveNamespace, type LiveSocket, LiveHub } from './live-hub';
import { LiveMeter } from './live-meter.service';
import { LiveSubscriptionsService, toLiveError } from './live-subscriptions.service';
import { CLIENT_EVENTS, type LiveError } from './live.events';
import { TokenBucket } from './token-bucket';

/** How long shutdown waits for the `closing` hint to be written before closing the sockets. */
const SHUTDOWN_GRACE_MS = 500;
const KNOWN_EVENTS = new Set(Object.keys(CLIENT_EVENTS));

type AckFn = (answer: unknown) => void;

/**
 * The live gateway: Socket.IO namespace `/live` on the port of the REST API. This class only
 * wires sockets to services: handshakes to {@link LiveAuthService}, client events to
 * {@link LiveSubscriptionsService} (after the per-socket rate limit and size check), pushes come
 * from {@link LivePublisher}, and {@link LiveRevalidator} keeps open sockets honest.
 */
@WebSocketGateway({ namespace: '/live' })
export class LiveGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, BeforeApplicationShutdown {
  private readonly logger = new Logger('LiveGateway');

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly hub: LiveHub,
    private readonly auth: LiveAuthService,
    private readonly subscriptions: LiveSubscriptionsService,
    private readonly meter: LiveMeter,
  ) {}

  afterInit(nsp: LiveNamespace): void {
    this.hub.attach(nsp);
    nsp.use((socket, next) => {
      this.auth.handshake(socket.request, socket.handshake.auth).then(
        (h) => {
          socket.data = {
            principal: h.principal,
            source: h.source,
            ip: h.ip,
            tokenExpiresAt: h.tokenExpiresAt,
            subscriptions: new Map(),
            bucket: new TokenBucket(
              this.config.live.messagesPerSecond,
              this.config.live.messagesPerSecond * 2,
              Date.now(),
            ),
            refusedInARow: 0,
            closing: false,
          };
          next();
        },
        (err: unknown) => {
          const error = toLiveError(err, this.logger, socket.id);
          this.meter.refusedConnection(error.code);
          this.logger.warn({
            msg: 'live connection refused',
            socketId: socket.id,
            ip: this.auth.clientAddress(socket.request),
            code: error.code,
          });
          next(Object.assign(new Error(error.message), { data: error }));
        },
      );
    });
  }

  handleConnection(socket: LiveSocket): void {
    this.meter.connected();
    this.logger.log({
      msg: 'live connection opened',
      socketId: socket.id,
      userId: socket.data.principal.userId,
      via: socket.data.source.kind,
      ip: socket.data.ip,
    });
    socket.use(([event, ...args], next) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as AckFn) : undefined;
      const refusal = this.inboundRefusal(socket, event, args);
      if (!refusal) return next();
      ack?.({ ok: false, error: refusal });
    });
    socket.on('subscribe', (message, ack) => void this.subscriptions.subscribe(socket, message).then(answer(ack)));
    socket.on('unsubscribe', (message, ack) => void this.subscriptions.unsubscribe(socket, message).then(answer(ack)));
    socket.on('auth', (message, ack) => void this.subscriptions.reauthenticate(socket, message).then(answer(ack)));
    // A client that reads more slowly than it is sent to must not make the server buffer without bound.
    socket.conn.on('packetCreate', () => {
      if (bufferedPackets(socket) > this.config.live.maxBufferedMessages) this.hub.disconnect(socket, 'slow_consumer');
    });
  }

  handleDisconnect(socket: LiveSocket): void {
    if (!socket.data?.principal) return;
    this.meter.disconnected();
    for (const channel of socket.data.subscriptions.values()) this.meter.unsubscribed(channel.kind);
    socket.data.subscriptions.clear();
    this.logger.log({ msg: 'live connection closed', socketId: socket.id, userId: socket.data.principal.userId });
  }

  /** Graceful shutdown: tell this instance's clients to reconnect elsewhere, then close them. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.hub.shutdown(SHUTDOWN_GRACE_MS);
  }

  /** Rate limit, known event, size: why a client message is refused, or null. */
  private inboundRefusal(socket: LiveSocket, event: string, args: unknown[]): LiveError | null {
    const taken = socket.data.bucket.take(Date.now());
    if (!taken.ok) {
      socket.data.refusedInARow += 1;
      // A client that ignores the refusals is flooding: close it rather than keep decoding.
      if (socket.data.refusedInARow > this.config.live.messagesPerSecond * 10)
        this.hub.disconnect(socket, 'rate_limited');
      return {
        code: ErrorCode.RateLimited,
        message: `At most ${this.config.live.messagesPerSecond} messages per second.`,
        retryAfterMs: taken.retryAfterMs,
      };
    }
    socket.data.refusedInARow = 0;
    if (!KNOWN_EVENTS.has(event)) {
      return { code: ErrorCode.BadRequest, message: `Unknown event; send one of ${[...KNOWN_EVENTS].join(', ')}.` };
    }
    let size: number;
    try {
      size = Buffer.byteLength(JSON.stringify(args) ?? '');
    } catch {
      return { code: ErrorCode.ValidationFailed, message: 'The message is not valid JSON data.' };
    }
    if (size > this.config.live.maxMessageBytes) {
      return {
        code: ErrorCode.PayloadTooLarge,
        message: `Messages are limited to ${this.config.live.maxMessageBytes} bytes.`,
      };
    }
    return null;
  }
}

/** Answers through the Socket.IO acknowledgement when the client asked for one. */
const answer =
  (ack: unknown) =>
  (value: unknown): void => {
    if (typeof ack === 'function') (ack as AckFn)(value);
  };
