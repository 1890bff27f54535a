import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { Request, Response } from 'express';
import pino from 'pino';
import { levelFor, logRequestOnFinish, noteOnRequestLog } from '../../../../src/common/logging/request-log';
import type { RequestContext } from '../../../../src/common/http/request-context';

/** A pino logger writing synchronously into an array of parsed lines. */
function capture(level: pino.Level = 'info'): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

function request(overrides: Partial<{ method: string; originalUrl: string; route: { path: string } }> = {}): {
  req: Request;
  res: Response & EventEmitter;
} {
  const req = { method: 'GET', originalUrl: '/api/v1/portfolios/42?limit=5', url: '/', ...overrides } as Request;
  const res = Object.assign(new EventEmitter(), { statusCode: 200 }) as unknown as Response & EventEmitter;
  return { req, res };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the request log line', () => {
  it('writes exactly one line per finished request, with the route template, caller and client address', async () => {
    const { logger, lines } = capture();
    const { req, res } = request({ route: { path: '/api/v1/portfolios/:id' } });
    const context: RequestContext = { requestId: 'req-1', ip: '203.0.113.9' };
    logRequestOnFinish(logger, req, res, context);
    context.actor = { type: 'api_key', id: 'key-7', userId: 'user-3' }; // set later by the guard
    res.emit('finish');
    res.emit('finish'); // a second event must not write a second line
    await flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      reqId: 'req-1',
      method: 'GET',
      route: '/api/v1/portfolios/:id',
      path: '/api/v1/portfolios/42',
      status: 200,
      ip: '203.0.113.9',
      userId: 'user-3',
      apiKeyId: 'key-7',
    });
    expect(JSON.stringify(lines[0])).not.toContain('limit=5');
  });

  it('leaves the route out for the 404 catch-all and logs ordinary 4xx at info', async () => {
    const { logger, lines } = capture();
    const { req, res } = request({ route: { path: '*path' } });
    res.statusCode = 404;
    logRequestOnFinish(logger, req, res, { requestId: 'r' });
    res.emit('finish');
    await flush();
    expect(lines[0].route).toBeUndefined();
    expect(lines[0].level).toBe(30);
  });

  it('puts an unhandled error and its stack on the same line, at error', async () => {
    const { logger, lines } = capture('warn');
    const { req, res } = request();
    res.statusCode = 500;
    logRequestOnFinish(logger, req, res, { requestId: 'r' });
    noteOnRequestLog(res, { error: new Error('boom') });
    res.emit('finish');
    await flush();
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe(50);
    expect((lines[0].err as { message: string; stack: string }).message).toBe('boom');
    expect((lines[0].err as { stack: string }).stack).toContain('request-log.spec');
  });

  it('writes nothing when the level drops the line', async () => {
    const { logger, lines } = capture('warn');
    const { req, res } = request();
    logRequestOnFinish(logger, req, res, { requestId: 'r' });
    res.emit('finish');
    await flush();
    expect(lines).toHaveLength(0);
  });

  it.each([
    [200, undefined, 'info'],
    [404, undefined, 'info'],
    [400, undefined, 'info'],
    [401, undefined, 'warn'],
    [403, undefined, 'warn'],
    [429, undefined, 'warn'],
    [500, undefined, 'error'],
    [503, { dependency: 'database' }, 'warn'],
    [503, { level: 'info' as const }, 'info'],
  ])('status %i (%j) is logged at %s', (status, notes, level) => {
    expect(levelFor(status, notes)).toBe(level);
  });
});
