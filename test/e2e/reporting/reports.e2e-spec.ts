import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

type User = Awaited<ReturnType<typeof createUser>>;

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const TEMPLATES = ['trading-performance', 'portfolio-summary', 'risk', 'user-activity', 'security-compliance'];
const FORMATS = ['html', 'csv', 'json', ...(hasChromium ? ['pdf'] : [])];
const PDFTOTEXT = '/usr/bin/pdftotext';
if (hasChromium && !existsSync(PDFTOTEXT)) {
  throw new Error(`reports e2e: PDF runs are tested, so ${PDFTOTEXT} is needed (apt-get install poppler-utils)`);
}
if (!hasChromium)
  console.warn(`reports e2e: ${CHROMIUM} is absent, so PDF runs are not tested (apt-get install chromium)`);

/** The unit scenario of test/unit/reporting/performance.spec.ts, through the API. */
const TRADES = [
  { symbol: 'AAA', side: 'buy', quantity: '10', price: '100', fees: '1', executedAt: '2026-01-05T10:00:00Z' },
  { symbol: 'AAA', side: 'sell', quantity: '5', price: '105', fees: '1', executedAt: '2026-01-07T17:00:00Z' },
  { symbol: 'BBB', side: 'buy', quantity: '2', price: '50', fees: '0', executedAt: '2026-01-08T10:00:00Z' },
  { symbol: 'BBB', side: 'sell', quantity: '2', price: '45', fees: '0', executedAt: '2026-01-08T17:00:00Z' },
];
const PRICES = [
  { symbol: 'AAA', price: '102', asOf: '2026-01-05T16:00:00Z' },
  { symbol: 'AAA', price: '99', asOf: '2026-01-06T16:00:00Z' },
  { symbol: 'AAA', price: '105', asOf: '2026-01-07T16:00:00Z' },
  { symbol: 'BBB', price: '45', asOf: '2026-01-08T16:00:00Z' },
];

/** A CSV parser for what @json2csv writes (quoted strings, "" escapes, \n rows). */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

describe('reports: built-in templates in every format, custom templates in a sandbox', () => {
  let t: TestApp;
  let root: Tokens;
  let trader: User;
  let viewer: User;
  let portfolioId: string;
  let asOf: string;
  let schemas: Record<string, object>;

  const run = async (who: Tokens, body: Record<string, unknown>) => {
    const res = await t.http.post('/api/v1/reports').set(bearer(who)).send(body);
    expect(res.status).toBe(202);
    return res.body as { id: string; status: string; reportKey: string; version: number };
  };
  const settle = async (who: Tokens, id: string, ms = 60_000) => {
    const until = Date.now() + ms;
    for (;;) {
      const res = await t.http.get(`/api/v1/reports/${id}`).set(bearer(who));
      expect(res.status).toBe(200);
      if (res.body.status === 'completed' || res.body.status === 'failed') return res.body;
      if (Date.now() > until) throw new Error(`report ${id} still ${res.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const download = (who: Tokens, id: string) =>
    t.http
      .get(`/api/v1/reports/${id}/download`)
      .set(bearer(who))
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });

  beforeAll(async () => {
    t = await startTestApp({
      ...BOOTSTRAP_ENV,
      REPORTS_POLL_INTERVAL_MS: '200',
      REPORTS_TEMPLATE_TIMEOUT_MS: '1000',
      REPORTS_CHROMIUM_PATH: CHROMIUM,
    });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    [trader, viewer] = await Promise.all([createUser(t, root, ['trader']), createUser(t, root, ['viewer'])]);
    const p = await t.http
      .post('/api/v1/portfolios')
      .set(bearer(trader.tokens))
      .send({ name: 'Desk', baseCurrency: 'USD' });
    portfolioId = p.body.id;
    const b = await t.http
      .post(`/api/v1/portfolios/${portfolioId}/trades/bulk`)
      .set(bearer(trader.tokens))
      .send({ trades: TRADES });
    expect(b.status).toBe(201);
    const pr = await t.http.post('/api/v1/prices/bulk').set(bearer(root)).send({ prices: PRICES });
    expect(pr.status).toBe(201);
    asOf = new Date(Date.now() + 1000).toISOString();
    await new Promise((r) => setTimeout(r, 1100));
    const templates = await t.http.get('/api/v1/reports/templates').set(bearer(root));
    expect(templates.status).toBe(200);
    schemas = Object.fromEntries(templates.body.map((x: { key: string; jsonSchema: object }) => [x.key, x.jsonSchema]));
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const params = (template: string): Record<string, unknown> => {
    const period = { from: '2026-01-05T00:00:00Z', to: '2026-01-08T23:59:59.999Z', asOf };
    if (template === 'trading-performance') return { ...period, portfolioId, capital: '1000', riskFreeRate: '0' };
    if (template === 'portfolio-summary') return { ...period, portfolioId };
    if (template === 'risk') return { portfolioId, asOf };
    return { from: '2026-01-01T00:00:00Z', to: asOf, asOf };
  };

  /** Figures each template must show, from the hand-computed scenario. */
  const FIGURES: Record<string, string[]> = {
    'trading-performance': ['38', '23.5', '13.5', '24.5', '2.35', '1.715'],
    'portfolio-summary': ['525', '500.5', '24.5', '13.5'],
    risk: ['525'],
    'user-activity': [ADMIN_EMAIL],
    'security-compliance': [ADMIN_EMAIL, 'super_admin'],
  };

  /** Summary rows: label and figure, checked side by side in HTML and in the PDF's text. */
  const LABELLED: Record<string, [string, string][]> = {
    'trading-performance': [
      ['Total P&L', '38'],
      ['Realised P&L', '13.5'],
      ['Unrealised P&L', '24.5'],
      ['Profit factor', '2.35'],
      ['Turnover', '1.715'],
    ],
    risk: [
      ['Long exposure', '525'],
      ['Gross exposure', '525'],
      ['Herfindahl index', '1'],
    ],
  };
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  for (const template of TEMPLATES) {
    for (const format of FORMATS) {
      it(`${template} as ${format}`, async () => {
        const queued = await run(root, { template, format, parameters: params(template) });
        const done = await settle(root, queued.id);
        expect(done).toMatchObject({ status: 'completed', progress: 100, error: null });
        expect(done.sha256).toMatch(/^[0-9a-f]{64}$/);
        const file = await download(root, queued.id);
        expect(file.status).toBe(200);
        expect(file.headers['content-disposition']).toBe(`attachment; filename="${done.fileName}"`);
        const body = file.body as Buffer;
        expect(body.length).toBe(done.size);
        const text = body.toString('utf8');
        if (format === 'json') {
          expect(file.headers['content-type']).toMatch(/^application\/json/);
          const json = JSON.parse(text);
          const ajv = new Ajv2020({ strict: false, allErrors: true });
          ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
          const valid = ajv.validate(schemas[template], json);
          expect(ajv.errors ?? []).toEqual([]);
          expect(valid).toBe(true);
          if (template === 'trading-performance') {
            expect(json.summary).toMatchObject({
              trades: 4,
              realisedPnl: '13.5',
              unrealisedPnl: '24.5',
              totalPnl: '38',
              fees: '2',
              winRate: '0.5',
              profitFactor: '2.35',
              payoffRatio: '2.35',
              turnover: '1.715',
              maxDrawdown: '30',
              maxDrawdownPeak: '2026-01-05',
              maxDrawdownTrough: '2026-01-06',
              maxDrawdownRecovery: '2026-01-07',
            });
            expect(Number(json.summary.sharpe)).toBeCloseTo(4.072506178, 7);
            expect(Number(json.summary.sortino)).toBeCloseTo(10.175002343, 6);
            expect(json.tables.daily.map((d: { equity: string }) => d.equity)).toEqual(['1019', '989', '1048', '1038']);
          }
          if (template === 'risk')
            expect(json.summary).toMatchObject({ long: '525', gross: '525', net: '525', herfindahl: '1' });
        } else if (format === 'csv') {
          expect(file.headers['content-type']).toMatch(/^text\/csv/);
          const rows = parseCsv(text);
          if (template === 'trading-performance') {
            expect(rows).toEqual([
              {
                symbol: 'AAA',
                trades: '2',
                tradedNotional: '1525',
                fees: '2',
                realisedPnl: '23.5',
                unrealisedPnl: '24.5',
                totalPnl: '48',
              },
              {
                symbol: 'BBB',
                trades: '2',
                tradedNotional: '190',
                fees: '0',
                realisedPnl: '-10',
                unrealisedPnl: '0',
                totalPnl: '-10',
              },
            ]);
          } else if (template === 'portfolio-summary') {
            expect(rows.find((r) => r.symbol === 'AAA')).toMatchObject({
              quantity: '5',
              marketValue: '525',
              unrealisedPnl: '24.5',
            });
          } else if (template === 'security-compliance') {
            expect(rows.find((r) => r.email === ADMIN_EMAIL)).toMatchObject({ status: 'active', roles: 'super_admin' });
          } else {
            expect(rows.length).toBeGreaterThan(0);
          }
        } else if (format === 'html') {
          expect(file.headers['content-type']).toMatch(/^text\/html/);
          for (const figure of FIGURES[template]) expect(text).toContain(`>${figure}<`);
          // Each figure in its own labelled row, not merely somewhere on the page.
          for (const [label, figure] of LABELLED[template] ?? []) {
            const html = label.replace(/&/g, '&amp;');
            expect(text).toMatch(new RegExp(`<th>${escape(html)}</th><td class="n">${escape(figure)}</td>`));
          }
        } else {
          expect(file.headers['content-type']).toBe('application/pdf');
          expect(body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
          // Read back by poppler's pdftotext (CI installs poppler-utils beside chromium).
          const pdfText = execFileSync(PDFTOTEXT, ['-layout', '-enc', 'UTF-8', '-', '-'], { input: body }).toString();
          expect(pdfText).toContain(done.templateName);
          for (const figure of FIGURES[template])
            expect(pdfText).toMatch(new RegExp(`(^|\\s)${escape(figure)}(\\s|$)`, 'm'));
          for (const [label, figure] of LABELLED[template] ?? []) {
            expect(pdfText).toMatch(new RegExp(`${escape(label)}\\s+${escape(figure)}(\\s|$)`));
          }
        }
      }, 90_000);
    }
  }

  it('a re-run with the same asOf is the next version of the same report, byte for byte', async () => {
    const body = { template: 'trading-performance', format: 'json', parameters: params('trading-performance') };
    const first = await settle(root, (await run(root, body)).id);
    const second = await settle(root, (await run(root, body)).id);
    expect(second.reportKey).toBe(first.reportKey);
    expect(second.version).toBe(first.version + 1);
    expect(second.sha256).toBe(first.sha256);
    const list = await t.http.get(`/api/v1/reports?reportKey=${first.reportKey}`).set(bearer(root));
    expect(list.body.items.slice(0, 2).map((r: { version: number }) => r.version)).toEqual([
      second.version,
      first.version,
    ]);
  });

  it('a custom template renders only the data it is given', async () => {
    const created = await t.http.post('/api/v1/reports/templates').set(bearer(root)).send({
      name: 'One pager',
      dataSource: 'trading-performance',
      body: '<h1><%= data.title %></h1><p id="pnl"><%= data.summary.totalPnl %></p><p><%= typeof process %></p>',
    });
    expect(created.status).toBe(201);
    const done = await settle(
      root,
      (await run(root, { template: created.body.key, format: 'html', parameters: params('trading-performance') })).id,
    );
    expect(done.status).toBe('completed');
    const text = (await download(root, done.id)).body.toString('utf8');
    expect(text).toBe('<h1>Trading Performance</h1><p id="pnl">38</p><p>undefined</p>');
  });

  it('a template that does not compile is refused on save', async () => {
    const res = await t.http
      .post('/api/v1/reports/templates')
      .set(bearer(root))
      .send({ name: 'Broken', dataSource: 'risk', body: '<% if (x) { %>' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('body');
  });

  it('a template that loops forever fails within its time limit while the app keeps serving', async () => {
    const created = await t.http
      .post('/api/v1/reports/templates')
      .set(bearer(root))
      .send({ name: 'Forever', dataSource: 'risk', body: '<% while (true) {} %>' });
    expect(created.status).toBe(201);
    const started = Date.now();
    const queued = await run(root, { template: created.body.key, format: 'html', parameters: { asOf } });
    // While it loops, the app answers.
    const live = await t.http.get('/health/live');
    expect(live.status).toBe(200);
    const me = await t.http.get('/api/v1/me').set(bearer(root));
    expect(me.status).toBe(200);
    const done = await settle(root, queued.id, 15_000);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/did not finish within 1000 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("permissions: reports:create to run; the data source's permissions; runs of others are 404", async () => {
    const byViewer = await t.http
      .post('/api/v1/reports')
      .set(bearer(viewer.tokens))
      .send({ template: 'risk', format: 'json' });
    expect(byViewer.status).toBe(403);
    const analyst = await createUser(t, root, ['analyst']);
    const security = await t.http
      .post('/api/v1/reports')
      .set(bearer(analyst.tokens))
      .send({ template: 'security-compliance', format: 'json' });
    expect(security.status).toBe(403);
    const ok = await run(analyst.tokens, { template: 'risk', format: 'json', parameters: { portfolioId, asOf } });
    const other = await t.http.get(`/api/v1/reports/${ok.id}`).set(bearer(viewer.tokens));
    expect(other.status).toBe(404);
    const bad = await t.http
      .post('/api/v1/reports')
      .set(bearer(root))
      .send({ template: 'risk', format: 'json', parameters: { portfolioId: 'nope', extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'parameters.extra',
      'parameters.portfolioId',
    ]);
  });
});
