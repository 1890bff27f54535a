/**
 * The yardstick for bench/live.bench.ts: a bare socket.io server doing the least for the same
 * job. Clients connect to `/live` (no authentication), `subscribe {channel}` joins the room with an
 * ack; `POST /publish/:channel` with a JSON body broadcasts it as a `trade` event to that room and
 * answers 201. No database, no permission checks, no re-checks, no Redis.
 *
 * Environment: HOST (127.0.0.1), PORT (0). `GET /health` answers 200 once listening.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { Server } from 'socket.io';

const read = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });

const http = createServer((req, res) => {
  const publish = /^\/publish\/(.+)$/.exec(req.url ?? '');
  if (req.method === 'POST' && publish) {
    void read(req).then((body) => {
      const payload = JSON.parse(body) as Record<string, unknown>;
      nsp.to(decodeURIComponent(publish[1])).emit('trade', payload);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: payload.id }));
    });
    return;
  }
  res.writeHead(req.url === '/health' ? 200 : 404).end();
});
const io = new Server(http, { serveClient: false });
const nsp = io.of('/live');
nsp.on('connection', (socket) => {
  socket.on('subscribe', (m: { channel: string }, ack?: (a: unknown) => void) => {
    void socket.join(m.channel);
    ack?.({ ok: true, channel: m.channel });
  });
});
http.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = http.address();
  console.log(`listening on ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => {
  void io.close();
  process.exit(0);
});
