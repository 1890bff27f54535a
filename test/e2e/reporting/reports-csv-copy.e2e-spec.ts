import { DataSource } from 'typeorm';
import { DATA_SOURCES } from '../../../src/reporting/data/data-sources';
import { ReportDataService } from '../../../src/reporting/data/report-data.service';
import { csvParser } from '../../../src/reporting/render/renderers';
import type { Row } from '../../../src/reporting/data/report-data.service';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The trades CSV on PostgreSQL comes from `COPY … TO STDOUT` (pg-copy-streams), not from
 * json2csv. It must be the very file json2csv writes for the same rows: same header, quoting,
 * escapes, NULLs, decimals and timestamps. Values are chosen to break a careless COPY: quotes,
 * commas, line breaks, non-ASCII, empty strings, NULL, microseconds, tiny and huge decimals.
 * Embedded mode renders with json2csv itself, so the comparison would be with itself: there the
 * test only checks the file against the same expectation.
 */
describe('reports: the trades CSV streamed by COPY is byte for byte the renderer', () => {
  let t: TestApp;
  let root: Tokens;
  let portfolioId: string;

  const TRICKY: [string, string, string, string, string, string | null][] = [
    // executed_at, side, quantity, price, fees, external_id
    ['2026-01-05T10:00:00.123456Z', 'buy', '10', '100.5', '1', 'plain'],
    ['2026-01-05T10:00:00.999999Z', 'sell', '0.00000001', '123456789012.12345678', '0', 'a "quoted", comma'],
    ['2026-01-05T10:00:01Z', 'buy', '1000000', '0.1', '0.25', 'line\nbreak\r\nand cr'],
    ['2026-01-06T00:00:00Z', 'sell', '3', '7', '0', null],
    ['2026-01-06T00:00:00Z', 'buy', '3', '7', '0', ''],
    ['2026-01-06T12:34:56.7Z', 'buy', '2.5', '99.99', '0.01', 'ünïcödé ✓ 株'],
    ['2026-01-07T00:00:00.000001Z', 'sell', '1', '1', '0', '  leading and trailing  '],
  ];

  beforeAll(async () => {
    t = await startTestApp({ ...BOOTSTRAP_ENV, REPORTS_POLL_INTERVAL_MS: '200' });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const p = await t.http.post('/api/v1/portfolios').set(bearer(root)).send({ name: 'Copy', baseCurrency: 'USD' });
    expect(p.status).toBe(201);
    portfolioId = p.body.id;
    const ds = t.app.get(DataSource);
    await ds.query(`INSERT INTO instruments (symbol, currency) VALUES ('CPY', 'USD') ON CONFLICT DO NOTHING`);
    let seq = 0;
    for (const [at, side, qty, price, fees, ext] of TRICKY) {
      seq++;
      await ds.query(
        `INSERT INTO trades (portfolio_id, seq, symbol, side, quantity, price, fees, executed_at, external_id)
         VALUES ($1, $2, 'CPY', $3, $4, $5, $6, $7, $8)`,
        [portfolioId, seq, side, qty, price, fees, at, ext],
      );
    }
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const settle = async (id: string) => {
    const until = Date.now() + 60_000;
    for (;;) {
      const res = await t.http.get(`/api/v1/reports/${id}`).set(bearer(root));
      if (res.body.status === 'completed' || res.body.status === 'failed') return res.body;
      if (Date.now() > until) throw new Error(`report ${id} still ${res.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const runCsv = async (parameters: Record<string, unknown>) => {
    const res = await t.http
      .post('/api/v1/reports')
      .set(bearer(root))
      .send({ template: 'trades', format: 'csv', parameters });
    expect(res.status).toBe(202);
    const done = await settle(res.body.id);
    expect(done).toMatchObject({ status: 'completed', error: null });
    const file = await t.http
      .get(`/api/v1/reports/${res.body.id}/download`)
      .set(bearer(root))
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(file.status).toBe(200);
    return { done, text: (file.body as Buffer).toString('utf8') };
  };

  /** What json2csv writes for the same rows, read by the same repository as the JSON/HTML path. */
  const rendered = async (range: { from: Date; to: Date; asOf: Date }): Promise<string> => {
    const data = t.app.get(ReportDataService);
    const rows: Row[] = [];
    for await (const page of data.tradePages([portfolioId], range)) rows.push(...page);
    const spec = DATA_SOURCES.trades;
    return rows.length ? csvParser(spec).parse(rows) + '\n' : csvParser(spec).parse([]).split('\n')[0] + '\n';
  };

  it('every tricky value: identical bytes, row count from COPY', async () => {
    const asOf = new Date(Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 1100));
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-02-01T00:00:00Z');
    const { done, text } = await runCsv({
      portfolioId,
      from: from.toISOString(),
      to: to.toISOString(),
      asOf: asOf.toISOString(),
    });
    const expected = await rendered({ from, to, asOf });
    expect(text).toBe(expected);
    expect(done.rowCount).toBe(TRICKY.length);
    expect(done.size).toBe(Buffer.byteLength(expected));
    // Not trivially equal: the header, a doubled quote, a kept line break, NULL as nothing.
    expect(text.split('\n')[0]).toBe(
      '"id","portfolioId","executedAt","symbol","side","quantity","price","fees","externalId"',
    );
    expect(text).toContain('"2026-01-05T10:00:00.123Z"');
    expect(text).toContain('"2026-01-05T10:00:00.999Z"');
    expect(text).toContain('"0.00000001","123456789012.12345678"');
    expect(text).toContain('"a ""quoted"", comma"');
    expect(text).toContain('"line\nbreak\r\nand cr"');
    expect(text).toMatch(/"sell","3","7","0",\n/);
    expect(text).toMatch(/"buy","3","7","0",""\n/);
  }, 90_000);

  it('no rows: the header alone, as the renderer writes it', async () => {
    const asOf = new Date();
    const from = new Date('2020-01-01T00:00:00Z');
    const to = new Date('2020-02-01T00:00:00Z');
    const { done, text } = await runCsv({
      portfolioId,
      from: from.toISOString(),
      to: to.toISOString(),
      asOf: asOf.toISOString(),
    });
    expect(text).toBe(await rendered({ from, to, asOf }));
    expect(text.split('\n')).toHaveLength(2);
    expect(done.rowCount).toBe(0);
  }, 60_000);
});
