import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from '../../../src/reporting/schedules/webhook-delivery';

describe('postWebhook', () => {
  let server: Server;
  let statuses: number[];
  let url: string;

  beforeEach(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(statuses.shift() ?? 200).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const waits: number[] = [];
  const sleep = async (ms: number) => void waits.push(ms);

  it('retries 5xx, 429 and 408 with the given delays until a 2xx', async () => {
    statuses = [500, 429, 408, 204];
    waits.length = 0;
    const out = await postWebhook(url, { a: 1 }, { delaysMs: [1, 2, 3], sleep });
    expect(out).toEqual({ ok: true, attempts: 4, status: 204, error: null });
    expect(waits).toEqual([1, 2, 3]);
  });

  it('gives up after the last delay', async () => {
    statuses = [503, 503, 503];
    const out = await postWebhook(url, {}, { delaysMs: [1, 1], sleep });
    expect(out).toEqual({ ok: false, attempts: 3, status: 503, error: 'HTTP 503' });
  });

  it('does not retry a 4xx other than 408 and 429, nor follow a redirect', async () => {
    statuses = [404];
    expect(await postWebhook(url, {}, { delaysMs: [1], sleep })).toMatchObject({ ok: false, attempts: 1, status: 404 });
    statuses = [302];
    expect(await postWebhook(url, {}, { delaysMs: [1], sleep })).toMatchObject({ ok: false, attempts: 1, status: 302 });
  });

  it('retries when nothing answers', async () => {
    const closed = url;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const out = await postWebhook(closed, {}, { delaysMs: [1, 1], sleep });
    expect(out.ok).toBe(false);
    expect(out.attempts).toBe(3);
    expect(out.status).toBeNull();
    expect(out.error).toEqual(expect.any(String));
  });

  it('refuses a private destination before sending anything when blockPrivate is on, without retrying', async () => {
    let received = 0;
    server.on('request', () => received++);
    statuses = [204];
    const out = await postWebhook(url, {}, { delaysMs: [1, 1], sleep, blockPrivate: true });
    expect(out).toEqual({
      ok: false,
      attempts: 1,
      status: null,
      error: 'webhook destination is in a private or loopback range (REPORTS_WEBHOOK_BLOCK_PRIVATE)',
    });
    expect(received).toBe(0);
  });
});
