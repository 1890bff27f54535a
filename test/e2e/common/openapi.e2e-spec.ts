import { compileErrors, validate } from '@readme/openapi-parser';
import { startTestApp, type TestApp } from '../support/test-app';

type Operation = {
  operationId?: string;
  summary?: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: {
    openapi: string;
    paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
    components: { securitySchemes: Record<string, unknown> };
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

  it('serves Swagger UI at /docs', async () => {
    const res = await t.http.get('/docs/').redirects(1);
    expect(res.status).toBe(200);
    expect(res.text).toContain('swagger-ui');
  });
});
