import { Injectable, Logger } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import type { AuthenticatedPrincipal, PrincipalSource } from '../../security/auth/principals.service';
import type { Channel } from './live-channels';
import { roomOf } from './live-channels';
import { LiveMeter } from './live-meter.service';
import type { ClientToServerEvents, DisconnectReason, LiveError, ServerToClientEvents } from './live.events';
import type { TokenBucket } from './token-bucket';

/** What the gateway keeps per socket. */
export interface LiveSocketData {
  principal: AuthenticatedPrincipal;
  source: PrincipalSource;
  /** The client address, resolved like REST's `req.ip` (TRUSTED_PROXIES). */
  ip: string | undefined;
  /** When the access token of a session socket expires (ms since the epoch). */
  tokenExpiresAt?: number;
  /** Channel name → channel. */
  subscriptions: Map<string, Channel>;
  bucket: TokenBucket;
  /** Messages refused by the rate limit since the last accepted one. */
  refusedInARow: number;
  closing: boolean;
}

export type LiveNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, object, LiveSocketData>;
export type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, object, LiveSocketData>;

/** Packets the engine holds for a socket because its transport is still busy writing earlier ones. */
export function bufferedPackets(socket: LiveSocket): number {
  return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
}

const MESSAGES: Record<DisconnectReason, { message: string; reconnect: boolean }> = {
  token_expired: {
    message: 'The access token expired: refresh it and reconnect (or send it with the auth event before expiry).',
    reconnect: true,
  },
  session_revoked: { message: 'The session was ended; sign in again.', reconnect: false },
  session_expired: { message: 'The session expired; sign in again.', reconnect: false },
  user_inactive: { message: 'The account is no longer active.', reconnect: false },
  api_key_revoked: { message: 'The API key was revoked.', reconnect: false },
  api_key_expired: { message: 'The API key expired.', reconnect: false },
  ip_blocked: { message: 'Connections from this address are refused.', reconnect: false },
  password_expired: { message: 'The password expired: change it with POST /api/v1/me/password.', reconnect: false },
  mfa_enrolment_required: { message: 'Your role requires MFA: enrol before connecting.', reconnect: false },
  rate_limited: { message: 'Too many messages: the connection was closed.', reconnect: true },
  slow_consumer: { message: 'The client read too slowly: the connection was closed.', reconnect: true },
  server_shutdown: { message: 'This instance is shutting down: reconnect.', reconnect: true },
};

/**
 * The gateway's namespace and what every part of it does to sockets: join and leave channels
 * (keeping the counts), push to a channel on every instance, and close a socket with a reason.
 */
@Injectable()
export class LiveHub {
  private readonly logger = new Logger('LiveGateway');
  private nsp?: LiveNamespace;

  /** Set once shutdown begins: events emitted later (a report run finishing) go nowhere. */
  private stopped = false;

  constructor(private readonly meter: LiveMeter) {}

  attach(nsp: LiveNamespace): void {
    this.nsp = nsp;
  }

  /** This instance's open sockets. */
  localSockets(): LiveSocket[] {
    return this.nsp ? [...this.nsp.sockets.values()] : [];
  }

  /** Sends to a room on every instance (through the Redis adapter in cluster mode). */
  emit<E extends keyof ServerToClientEvents>(
    room: string,
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
  ): void {
    // After shutdown the Redis adapter's clients are closing: a publish would be rejected unhandled.
    if (!this.nsp || this.stopped) return;
    // socket.io's typed emit cannot take a generic event name: the signature above keeps the pairing typed.
    const target = this.nsp.to(room);
    (target.emit as (this: typeof target, e: string, p: unknown) => boolean).call(target, event, payload);
  }

  async join(socket: LiveSocket, channel: Channel): Promise<void> {
    if (socket.data.subscriptions.has(channel.name)) return;
    socket.data.subscriptions.set(channel.name, channel);
    this.meter.subscribed(channel.kind);
    await socket.join(roomOf(channel, socket.data.principal.userId));
  }

  async leave(socket: LiveSocket, channelName: string): Promise<boolean> {
    const channel = socket.data.subscriptions.get(channelName);
    if (!channel) return false;
    socket.data.subscriptions.delete(channelName);
    this.meter.unsubscribed(channel.kind);
    await socket.leave(roomOf(channel, socket.data.principal.userId));
    return true;
  }

  /** Ends a subscription the caller may no longer have, and tells them with `revoked`. */
  async revoke(socket: LiveSocket, channelName: string, error: LiveError): Promise<void> {
    if (!(await this.leave(socket, channelName))) return;
    socket.emit('revoked', { channel: channelName, code: error.code, message: error.message });
    this.logger.log({
      msg: 'live subscription revoked',
      socketId: socket.id,
      userId: socket.data.principal.userId,
      channel: channelName,
      code: error.code,
    });
  }

  /** Closes a socket after telling it why (`closing`); a slow consumer is cut without waiting. */
  disconnect(socket: LiveSocket, reason: DisconnectReason): void {
    if (socket.data.closing || socket.disconnected) return;
    socket.data.closing = true;
    this.meter.forcedDisconnect(reason);
    this.logger.log({
      msg: 'live connection closed by the server',
      socketId: socket.id,
      userId: socket.data.principal?.userId,
      reason,
    });
    if (reason === 'slow_consumer') {
      // Its buffer is what is too long: drop it rather than wait for it to drain.
      socket.conn.close(true);
      return;
    }
    socket.emit('closing', { reason, ...MESSAGES[reason] });
    socket.disconnect(true);
  }

  /** Tells every socket of this instance to reconnect elsewhere, then closes them (graceful shutdown). */
  async shutdown(graceMs: number): Promise<void> {
    this.stopped = true;
    const sockets = this.localSockets();
    if (!this.nsp || sockets.length === 0) return;
    for (const socket of sockets) {
      socket.data.closing = true;
      this.meter.forcedDisconnect('server_shutdown');
      socket.emit('closing', { reason: 'server_shutdown', ...MESSAGES.server_shutdown });
    }
    // Let the hint reach the clients before the connections close.
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && sockets.some((s) => s.connected && bufferedPackets(s) > 0)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.logger.log({ msg: 'live gateway shutting down', connections: sockets.length });
    for (const socket of sockets) socket.disconnect(true);
  }
}
