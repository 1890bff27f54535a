import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DELIVERY_RETRY_DELAYS_MS, nextDelay, postWebhook } from '../../../src/reporting/delivery/webhook-delivery';

describe('nextDelay', () => {
  it('waits 0.5, 2 and 8 s after the 1st, 2nd and 3rd attempt; the 4th is the last', () => {
    expect(DELIVERY_RETRY_DELAYS_MS).toEqual([500, 2_000, 8_000]);
    expect([1, 2, 3, 4, 5].map((n) => nextDelay(n))).toEqual([500, 2_000, 8_000, null, null]);
    expect(nextDelay(0)).toBeNull();
    expect(nextDelay(2, [10, 20])).toBe(20);
  });
});

describe('postWebhook (one attempt)', () => {
  let server: Server;
  let status: number;
  let seen: { headers: IncomingHttpHeaders; body: string }[];
  let url: string;

  beforeEach(async () => {
    seen = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a 2xx is delivered; the body is the JSON and the delivery id is a header', async () => {
    status = 204;
    expect(await postWebhook(url, { a: 1 }, { deliveryId: 'd-1' })).toEqual({
      ok: true,
      status: 204,
      error: null,
      retryable: false,
    });
    expect(JSON.parse(seen[0].body)).toEqual({ a: 1 });
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(seen[0].headers['x-bastion-delivery']).toBe('d-1');
  });

  it.each([500, 503, 429, 408])('%i may pass later', async (s) => {
    status = s;
    expect(await postWebhook(url, {})).toEqual({ ok: false, status: s, error: `HTTP ${s}`, retryable: true });
  });

  it.each([404, 400, 410, 302])('%i is final (a redirect is not followed)', async (s) => {
    status = s;
    expect(await postWebhook(url, {})).toEqual({ ok: false, status: s, error: `HTTP ${s}`, retryable: false });
    expect(seen).toHaveLength(1);
  });

  it('nothing answering may pass later', async () => {
    const closed = url;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const out = await postWebhook(closed, {});
    expect(out).toMatchObject({ ok: false, status: null, retryable: true });
    expect(out.error).toEqual(expect.any(String));
  });

  it('refuses a private destination before sending anything when blockPrivate is on, for good', async () => {
    status = 204;
    expect(await postWebhook(url, {}, { blockPrivate: true })).toEqual({
      ok: false,
      status: null,
      error: 'webhook destination is in a private or loopback range (REPORTS_WEBHOOK_BLOCK_PRIVATE)',
      retryable: false,
    });
    expect(seen).toHaveLength(0);
  });
});
