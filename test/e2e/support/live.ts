import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { io, type Socket } from 'socket.io-client';
import { SERVER_EVENTS } from '../../../src/api/live/live.events';
import type { TestApp } from './test-app';

export interface ConnectError extends Error {
  data?: { code: string; message: string };
}

/** A real socket.io client on `/live`, websocket only, no reconnection: resolves once connected. */
export function connectLive(
  t: TestApp | string,
  auth: Record<string, unknown> | undefined,
  options: { extraHeaders?: Record<string, string> } = {},
): Promise<Socket> {
  const base = typeof t === 'string' ? t : t.baseUrl;
  const socket = io(`${base}/live`, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 10_000,
    extraHeaders: options.extraHeaders,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The `connect_error` a refused handshake gets. */
export async function refusal(
  t: TestApp | string,
  auth: Record<string, unknown> | undefined,
  options: { extraHeaders?: Record<string, string> } = {},
): Promise<ConnectError> {
  try {
    const socket = await connectLive(t, auth, options);
    socket.close();
  } catch (err) {
    return err as ConnectError;
  }
  throw new Error('the handshake was accepted');
}

export function emitAck<T = Record<string, unknown>>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return socket.timeout(15_000).emitWithAck(event, payload) as Promise<T>;
}

/** The next `event` on the socket (optionally the first that matches), or a timeout error. */
export function nextEvent<T = Record<string, unknown>>(
  socket: Socket,
  event: string,
  match: (payload: T) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (payload: T): void => {
      if (!match(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(payload);
    };
    socket.on(event, handler);
  });
}

/** Resolves with the disconnect reason of the client and the time it took from `since`. */
export function disconnected(
  socket: Socket,
  since: number,
  timeoutMs = 5_000,
): Promise<{ reason: string; ms: number }> {
  return new Promise((resolve, reject) => {
    if (socket.disconnected) return resolve({ reason: 'already', ms: Date.now() - since });
    const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve({ reason, ms: Date.now() - since });
    });
  });
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map(Object.entries(SERVER_EVENTS).map(([event, doc]) => [event, ajv.compile(doc.payload)]));

/** Checks a received message against the schema the AsyncAPI document publishes for its event. */
export function expectSchema(event: string, payload: unknown): void {
  const validate = validators.get(event);
  if (!validate) throw new Error(`no schema for ${event}`);
  if (!validate(payload)) {
    throw new Error(
      `${event} does not match its schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(payload)}`,
    );
  }
}
