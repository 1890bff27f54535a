import { Injectable, Logger } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { ReportsService } from '../../reporting/runs/reports.service';
import { PortfoliosService } from '../../trading/portfolios/portfolios.service';
import { LiveAuthService } from './live-auth.service';
import { type LiveSocket, LiveHub } from './live-hub';
import { channelError, missingPermissions, parseChannel, reportRoom } from './live-channels';
import type { Ack, LiveError } from './live.events';

/** At most this many channels per connection. */
export const MAX_SUBSCRIPTIONS = 100;

/** An AppException as the `error` of an ack; anything else is logged and answered as INTERNAL_ERROR. */
export function toLiveError(err: unknown, logger: Logger, socketId: string): LiveError {
  if (err instanceof AppException) {
    const ext = err.options.extensions ?? {};
    return {
      code: err.code,
      message: err.detail,
      ...(err.options.errors ? { errors: err.options.errors } : {}),
      ...(Array.isArray(ext.missingPermissions) ? { missingPermissions: ext.missingPermissions as string[] } : {}),
    };
  }
  logger.error({ msg: 'live gateway error', socketId, err });
  return { code: ErrorCode.InternalError, message: 'An unexpected error occurred.' };
}

/**
 * What clients may do over a live socket: subscribe to a channel they may see (the caller's
 * current permissions, and for a portfolio the same visibility rule as REST, so a portfolio you
 * may not see answers exactly as one that does not exist), leave one, and replace their token.
 */
@Injectable()
export class LiveSubscriptionsService {
  private readonly logger = new Logger('LiveGateway');

  constructor(
    private readonly hub: LiveHub,
    private readonly auth: LiveAuthService,
    private readonly portfolios: PortfoliosService,
    private readonly reports: ReportsService,
  ) {}

  async subscribe(socket: LiveSocket, message: unknown): Promise<Ack<{ channel: string }>> {
    try {
      const name = readChannel(message);
      const channel = parseChannel(name);
      if (!channel) throw AppException.validation([{ field: 'channel', message: channelError(name) }]);
      const principal = socket.data.principal;
      const missing = missingPermissions(channel.kind, principal.permissions);
      if (missing.length > 0) {
        throw new AppException(ErrorCode.Forbidden, `You are not allowed to subscribe to ${channel.kind} channels.`, {
          extensions: { missingPermissions: missing },
        });
      }
      if (socket.data.subscriptions.has(channel.name)) return { ok: true, channel: channel.name };
      if (socket.data.subscriptions.size >= MAX_SUBSCRIPTIONS) {
        throw new AppException(
          ErrorCode.BadRequest,
          `A connection may hold at most ${MAX_SUBSCRIPTIONS} subscriptions.`,
        );
      }
      if (channel.kind === 'portfolio') await this.portfolios.requireAccess(principal, channel.id);
      // A report's progress goes to those who may read the run (see roomOf); any well-formed id
      // is accepted, and one you may not see (or that does not exist yet) sends you nothing.
      if (channel.kind === 'report') {
        const readable = await this.reports.readable(principal, channel.id);
        if (readable) {
          channel.room = reportRoom(readable.run.id, readable.run.ownerId);
          if (readable.readAs) channel.readAs = readable.readAs;
        }
      }
      if (socket.disconnected) return { ok: true, channel: channel.name };
      await this.hub.join(socket, channel);
      return { ok: true, channel: channel.name };
    } catch (err) {
      return { ok: false, error: toLiveError(err, this.logger, socket.id) };
    }
  }

  async unsubscribe(socket: LiveSocket, message: unknown): Promise<Ack<{ channel: string }>> {
    try {
      const name = readChannel(message);
      const channel = parseChannel(name);
      if (!channel) throw AppException.validation([{ field: 'channel', message: channelError(name) }]);
      await this.hub.leave(socket, channel.name);
      return { ok: true, channel: channel.name };
    } catch (err) {
      return { ok: false, error: toLiveError(err, this.logger, socket.id) };
    }
  }

  /** A fresh access token for the connection (same user): pushes back the token_expired disconnect. */
  async reauthenticate(socket: LiveSocket, message: unknown): Promise<Ack<{ expiresAt: string }>> {
    try {
      if (!message || typeof message !== 'object' || Array.isArray(message)) {
        throw AppException.validation([{ field: 'token', message: 'send {token: <access token>}' }]);
      }
      const principal = await this.auth.refresh(socket.data.principal, (message as { token?: unknown }).token);
      socket.data.principal = principal;
      socket.data.source = { kind: 'session', sessionId: principal.sessionId, userId: principal.userId };
      socket.data.tokenExpiresAt = principal.expiresAt.getTime();
      return { ok: true, expiresAt: principal.expiresAt.toISOString() };
    } catch (err) {
      return { ok: false, error: toLiveError(err, this.logger, socket.id) };
    }
  }
}

function readChannel(message: unknown): unknown {
  if (!message || typeof message !== 'object' || Array.isArray(message)) {
    throw AppException.validation([{ field: 'channel', message: 'send {channel: <name>}' }]);
  }
  const extra = Object.keys(message).filter((k) => k !== 'channel');
  if (extra.length > 0) {
    throw AppException.validation(extra.map((field) => ({ field, message: `property ${field} should not exist` })));
  }
  return (message as { channel?: unknown }).channel;
}
