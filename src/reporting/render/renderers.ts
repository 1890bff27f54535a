import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { Parser } from '@json2csv/plainjs';
import * as ejs from 'ejs';
import type { DataSourceSpec } from '../data/data-sources';
import type { ReportData, Row } from '../data/report-data.service';

export type ReportFormat = 'html' | 'csv' | 'json' | 'pdf';
export const REPORT_FORMATS: ReportFormat[] = ['html', 'csv', 'json', 'pdf'];

export const CONTENT_TYPES: Record<ReportFormat, string> = {
  html: 'text/html; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  pdf: 'application/pdf',
};

/** The built-in layout: every data source's summary figures and tables, labelled from its declaration. */
export const BUILTIN_HTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title><%= data.title %></title>
<style>
body{font-family:sans-serif;font-size:12px;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:20px 0 6px}
table{border-collapse:collapse;margin-bottom:8px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.meta{color:#666}
</style></head><body>
<h1><%= data.title %></h1>
<p class="meta">As of <%= data.asOf %><% Object.keys(data.parameters).sort().forEach(function (k) { %> · <%= k %>: <%= data.parameters[k] %><% }) %></p>
<h2>Summary</h2>
<table><% spec.summary.forEach(function (c) { %><tr><th><%= c.label %></th><td class="n"><%= data.summary[c.name] === null ? '—' : String(data.summary[c.name]) %></td></tr><% }) %></table>
<% Object.keys(spec.tables).forEach(function (name) { var cols = spec.tables[name]; var rows = data.tables[name]; %>
<h2><%= labels[name] || name %></h2>
<% if (rows.length === 0) { %><p class="meta">None.</p><% } else { %>
<table><tr><% cols.forEach(function (c) { %><th><%= c.label %></th><% }) %></tr>
<% rows.forEach(function (r) { %><tr><% cols.forEach(function (c) { %><td<%- c.type === 'decimal' || c.type === 'integer' ? ' class="n"' : '' %>><%= r[c.name] === null ? '—' : String(r[c.name]) %></td><% }) %></tr>
<% }) %></table><% } %>
<% }) %>
</body></html>
`;

const TABLE_LABELS: Record<string, string> = {
  bySymbol: 'By symbol',
  byMonth: 'By month',
  daily: 'Daily returns',
  positions: 'Positions',
  cashFlows: 'Cash flows',
  top: 'Top positions',
  largestLosses: 'Largest losses',
  byUserAndDay: 'By user and day',
  activeSessions: 'Active sessions',
  mfaByRole: 'MFA coverage by role',
  accessReview: 'Access review',
  apiKeys: 'API keys',
  securityEvents: 'Security events by type',
  trades: 'Trades',
};

const compiledBuiltin = ejs.compile(BUILTIN_HTML, { localsName: 'locals', _with: true });

export function renderBuiltinHtml(spec: DataSourceSpec, data: ReportData): string {
  return compiledBuiltin({ data, spec, labels: TABLE_LABELS });
}

export function renderJson(data: ReportData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** CSV of one table (@json2csv), columns in their declared order, header row of column names. */
export function csvParser(spec: DataSourceSpec, header = true): Parser<Row, Row> {
  return new Parser<Row, Row>({
    fields: spec.tables[spec.csvTable].map((c) => ({ label: c.name, value: c.name })),
    header,
    eol: '\n',
    withBOM: false,
  });
}

export interface WrittenFile {
  size: number;
  sha256: string;
}

/**
 * Writes chunks to a file, hashing as it goes and waiting for the stream to drain, so memory
 * stays bounded whatever the size.
 */
export async function writeChunks(
  path: string,
  chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
): Promise<WrittenFile> {
  const hash = createHash('sha256');
  const out = createWriteStream(path, { flags: 'w', mode: 0o640 });
  let size = 0;
  try {
    for await (const chunk of chunks as AsyncIterable<string | Buffer>) {
      const piece: string | Buffer = chunk;
      const buf: Buffer = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
      if (buf.length === 0) continue;
      hash.update(buf);
      size += buf.length;
      if (!out.write(buf)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    throw err;
  }
  return { size, sha256: hash.digest('hex') };
}

export function chromiumAvailable(path: string): boolean {
  return existsSync(path);
}

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** HTML to PDF with headless Chromium (playwright-core); JavaScript off, no network. */
export async function renderPdf(html: string, executablePath: string): Promise<Buffer> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true });
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    const page = await context.newPage();
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.setContent(html, { waitUntil: 'load' });
    return await page.pdf({ format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm' } });
  } finally {
    await browser.close();
  }
}
