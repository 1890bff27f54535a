import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileErrors, validate } from '@readme/openapi-parser';
import { ALL_PERMISSIONS } from '../../../src/security/rbac/permissions';
import { startTestApp, type TestApp } from '../support/test-app';

type Schema = {
  type?: string;
  format?: string;
  pattern?: string;
  $ref?: string;
  items?: Schema;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
};
type Operation = {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  deprecated?: boolean;
  security?: unknown[];
  requestBody?: unknown;
  parameters?: { name: string; in: string; schema: Schema }[];
  responses: Record<
    string,
    { content?: Record<string, { schema?: unknown }>; headers?: Record<string, { $ref?: string }> }
  >;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: {
    openapi: string;
    paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
    tags: { name: string; description?: string }[];
    components: {
      securitySchemes: Record<string, unknown>;
      schemas: Record<string, Schema>;
      headers: Record<string, unknown>;
    };
  };

  beforeAll(async () => {
    t = await startTestApp();
    const res = await t.http.get('/docs-json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(() => t?.close());

  const operations = (): [string, Operation][] =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => [`${m.toUpperCase()} ${path}`, item[m]!] as [string, Operation]),
    );

  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const result = await validate(structuredClone(doc) as never);
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.valid).toBe(true);
  });

  it('declares bearer and API-key security schemes', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
  });

  it('gives every operation a unique operationId and a summary', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(0);
    const ids = ops.map(([, op]) => op.operationId);
    for (const [name, op] of ops) {
      expect({ name, operationId: op.operationId }).toEqual({ name, operationId: expect.stringMatching(/^\w+$/) });
      expect({ name, summary: op.summary }).toEqual({ name, summary: expect.stringMatching(/\S/) });
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('types every success response and documents error responses as problem+json', () => {
    for (const [name, op] of operations()) {
      const statuses = Object.keys(op.responses);
      const success = statuses.filter((s) => /^[23]/.test(s));
      expect({ name, success: success.length > 0 }).toEqual({ name, success: true });
      for (const s of success.filter((s) => s !== '204' && !s.startsWith('3'))) {
        const content = op.responses[s].content ?? {};
        const typed = Object.values(content).some((c) => c.schema !== undefined);
        expect({ name, status: s, typed }).toEqual({ name, status: s, typed: true });
      }
      const errors = statuses.filter((s) => /^[45]/.test(s));
      expect({ name, hasErrors: errors.length > 0 }).toEqual({ name, hasErrors: true });
      for (const s of errors) {
        expect({ name, status: s, content: Object.keys(op.responses[s].content ?? {}) }).toEqual({
          name,
          status: s,
          content: ['application/problem+json'],
        });
      }
    }
  });

  it('names operations as functions: getMe, listPortfolios, getPortfolioV2', () => {
    const byRoute = new Map(operations().map(([name, op]) => [name, op.operationId]));
    expect(byRoute.get('GET /api/v1/me')).toBe('getMe');
    expect(byRoute.get('GET /api/v1/portfolios')).toBe('listPortfolios');
    expect(byRoute.get('GET /api/v2/portfolios/{id}')).toBe('getPortfolioV2');
    expect(byRoute.get('POST /api/v1/portfolios/{id}/trades/bulk')).toBe('createTradesBulk');
    for (const [name, op] of operations()) {
      expect({ name, operationId: op.operationId }).toEqual({
        name,
        operationId: expect.stringMatching(/^[a-z][A-Za-z0-9]*$/),
      });
    }
  });

  it('describes every operation and every tag', () => {
    for (const [name, op] of operations()) {
      expect({ name, description: op.description }).toEqual({ name, description: expect.stringMatching(/\S/) });
    }
    const used = new Set(operations().flatMap(([, op]) => op.tags ?? []));
    expect(doc.tags.map((t) => t.name).sort()).toEqual([...used].sort());
    for (const tag of doc.tags)
      expect({ tag: tag.name, description: tag.description }).toEqual({
        tag: tag.name,
        description: expect.stringMatching(/\S/),
      });
  });

  it('documents 429 with Retry-After and RateLimit-*, 413 and 415 where a body is accepted, X-Request-Id on every answer', () => {
    for (const [name, op] of operations()) {
      expect({ name, headers: Object.keys(op.responses['429']?.headers ?? {}).sort() }).toEqual({
        name,
        headers: ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'X-Request-Id'],
      });
      if (op.requestBody) {
        expect({ name, s413: !!op.responses['413'], s415: !!op.responses['415'] }).toEqual({
          name,
          s413: true,
          s415: true,
        });
      }
      for (const [status, response] of Object.entries(op.responses)) {
        expect({ name, status, requestId: response.headers?.['X-Request-Id']?.$ref }).toEqual({
          name,
          status,
          requestId: '#/components/headers/X-Request-Id',
        });
      }
      // Public operations say so, rather than leave security undeclared.
      expect({ name, security: Array.isArray(op.security) }).toEqual({ name, security: true });
    }
    const createTrade = doc.paths['/api/v1/portfolios/{id}/trades'].post!;
    expect(Object.keys(createTrade.responses['201'].headers ?? {})).toContain('Idempotent-Replayed');
  });

  it('types path ids as UUIDs, limits as integers, decimals with a pattern, permissions as one enum', () => {
    for (const [name, op] of operations()) {
      for (const p of op.parameters ?? []) {
        if (p.in === 'path' && /^(id|\w+Id)$/.test(p.name))
          expect({ name, p: p.name, format: p.schema.format }).toEqual({ name, p: p.name, format: 'uuid' });
        if (p.name === 'limit') expect({ name, type: p.schema.type }).toEqual({ name, type: 'integer' });
      }
    }
    const schemas = doc.components.schemas;
    expect(schemas.TradeInputDto.properties!.quantity.pattern).toEqual(expect.any(String));
    expect(schemas.TradeInputDto.properties!.price.pattern).toEqual(expect.any(String));
    expect(schemas.Permission.enum).toEqual([...ALL_PERMISSIONS]);
    expect(schemas.MeDto.properties!.permissions.items).toEqual({ $ref: '#/components/schemas/Permission' });
    expect(schemas.CreateApiKeyDto.properties!.scopes.items).toEqual({ $ref: '#/components/schemas/Permission' });
  });

  it('declares the problem extension members and instance as always present', () => {
    const problem = doc.components.schemas.ProblemDto;
    expect(problem.required).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'code', 'requestId']),
    );
    for (const member of [
      'errors',
      'attemptsRemaining',
      'rules',
      'missingPermissions',
      'limit',
      'failing',
      'dependency',
    ]) {
      expect({ member, declared: member in problem.properties! }).toEqual({ member, declared: true });
    }
  });

  it('leaves fields with a server default optional in requests', () => {
    // A generated client must not make callers send what the server fills in.
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      for (const [prop, p] of Object.entries(schema.properties ?? {}) as [string, Schema & { default?: unknown }][]) {
        if (p.default !== undefined)
          expect({ name, prop, required: schema.required?.includes(prop) ?? false }).toEqual({
            name,
            prop,
            required: false,
          });
      }
    }
    // Request-only schemas say their defaults in words: generators read `default` as "always present".
    const fees = doc.components.schemas.TradeInputDto.properties!.fees as Schema & {
      default?: unknown;
      description?: string;
    };
    expect(doc.components.schemas.TradeInputDto.required).not.toContain('fees');
    expect(fees.default).toBeUndefined();
    expect(fees.description).toContain('Default: `"0"`');
    for (const [name, op] of operations()) {
      for (const p of (op.parameters ?? []) as {
        name: string;
        required?: boolean;
        schema: Schema & { default?: unknown };
      }[]) {
        if (p.schema.default !== undefined)
          expect({ name, p: p.name, required: p.required ?? false }).toEqual({ name, p: p.name, required: false });
      }
    }
  });

  it('is exactly what `npm run openapi` writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      await promisify(execFile)('npm', ['run', '-s', 'openapi', '--', file], {
        cwd: join(__dirname, '../../..'),
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(doc);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('serves Swagger UI at /docs', async () => {
    const res = await t.http.get('/docs/').redirects(1);
    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui');
  });

  describe('with DEPRECATED_API_VERSIONS and DOCS_ENABLED', () => {
    it('flags deprecated only the v1 operations that have a v2, and declares the headers on every v1 answer', async () => {
      const d = await startTestApp({ DEPRECATED_API_VERSIONS: '1=2027-06-30' });
      try {
        const deprecatedDoc = (await d.http.get('/docs-json')).body as typeof doc;
        const v1 = Object.entries(deprecatedDoc.paths).filter(([path]) => path.startsWith('/api/v1/'));
        const flagged = v1.flatMap(([path, item]) =>
          METHODS.filter((m) => item[m]?.deprecated).map((m) => `${m.toUpperCase()} ${path}`),
        );
        expect(flagged).toEqual(['GET /api/v1/portfolios/{id}']);
        const me = deprecatedDoc.paths['/api/v1/me'].get!;
        expect(Object.keys(me.responses['200'].headers ?? {})).toEqual(
          expect.arrayContaining(['Deprecation', 'Sunset', 'Link']),
        );
        const me2 = await d.http.get('/api/v1/me');
        expect(me2.headers.deprecation).toMatch(/^@\d+$/);
      } finally {
        await d.close();
      }
    });

    it('DOCS_ENABLED=false serves neither /docs nor /docs-json', async () => {
      const off = await startTestApp({ DOCS_ENABLED: 'false' });
      try {
        expect((await off.http.get('/docs-json')).status).toBe(404);
        expect((await off.http.get('/docs/').redirects(1)).status).toBe(404);
        expect((await off.http.get('/health/live')).status).toBe(200);
      } finally {
        await off.close();
      }
    });
  });
});
