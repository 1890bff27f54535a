import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { SMTPServer } from 'smtp-server';
import type { MetricDescriptor } from '../../../src/monitoring/metrics/metric-catalogue';
import { type MetricSource, MetricSources } from '../../../src/monitoring/metrics/metric-sources';

/** A metric whose value the test sets: registered through startTestApp's `imports`. */
export class TestGauge implements MetricSource {
  value: number | undefined;

  describe(): MetricDescriptor[] {
    return [{ name: 'test_gauge', help: 'A value the test controls.', unit: 'count', labels: [], prometheus: null }];
  }

  collect(): Record<string, number> {
    return this.value === undefined ? {} : { test_gauge: this.value };
  }
}

/** A module registering `gauge` as a metric source of the app it is imported into. */
export function testMetricsModule(gauge: TestGauge): new (...args: never[]) => unknown {
  @Module({})
  class TestMetricsModule implements OnModuleInit {
    constructor(@Inject(MetricSources) private readonly sources: MetricSources) {}

    onModuleInit(): void {
      this.sources.register(gauge);
    }
  }
  return TestMetricsModule;
}

export interface WebhookCall {
  headers: IncomingHttpHeaders;
  raw: string;
  body: {
    version: string;
    status: string;
    alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
    bastion: { kind: string; alertId: string; acknowledgeNote: string | null };
  };
  signatureValid: boolean;
}

/** An HTTP receiver on 127.0.0.1 that records webhook calls and checks their HMAC signature. */
export async function startWebhookReceiver(
  secret: string,
  answer: () => number = () => 200,
): Promise<{ url: string; calls: WebhookCall[]; close(): Promise<void> }> {
  const calls: WebhookCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const expected = `sha256=${createHmac('sha256', secret)
        .update(`${String(req.headers['x-bastion-timestamp'])}.${raw}`)
        .digest('hex')}`;
      const given = String(req.headers['x-bastion-signature'] ?? '');
      const signatureValid =
        given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      const status = answer();
      if (status === 200)
        calls.push({ headers: req.headers, raw, body: JSON.parse(raw) as WebhookCall['body'], signatureValid });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Mail {
  to: string[];
  raw: string;
  subject: string;
}

/** A real SMTP server (npm smtp-server) on 127.0.0.1 without TLS or auth, keeping every message. */
export async function startSmtpServer(): Promise<{ url: string; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1].replace(/\r?\n[ \t]/g, ' ') ?? '';
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, subject });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` every 50 ms until it returns a value, for at most `ms`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
