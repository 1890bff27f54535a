import { Body, Controller, Module, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsString, Max, Min, ValidateNested } from 'class-validator';
import { Public } from '../../../src/common/http/public.decorator';
import { startTestApp, type TestApp } from '../support/test-app';

class ProbeItemDto {
  @IsString()
  symbol!: string;
}

class ProbeDto {
  @IsEmail()
  email!: string;

  @IsInt()
  @Min(1)
  @Max(10)
  quantity!: number;

  @ValidateNested({ each: true })
  @Type(() => ProbeItemDto)
  items!: ProbeItemDto[];
}

/** A route with a validated body, so the pipeline's handling of bodies can be exercised. */
@Controller({ path: 'pipeline-probe', version: '1' })
class ProbeController {
  @Public()
  @Post()
  echo(@Body() body: ProbeDto): ProbeDto {
    return body;
  }

  @Public()
  @Post('boom')
  boom(): never {
    throw new Error('secret internal detail: SELECT * FROM users');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const PROBLEM = /^application\/problem\+json/;

describe('HTTP pipeline (problem+json, request ids, limits)', () => {
  let t: TestApp;
  const valid = { email: 'a@example.com', quantity: 3, items: [{ symbol: 'AAPL' }] };

  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT: '1mb' }, { imports: [ProbeModule] });
  });
  afterAll(() => t?.close());

  function expectProblem(
    res: { status: number; headers: Record<string, string>; body: Record<string, unknown>; text: string },
    status: number,
    code: string,
  ): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(PROBLEM);
    expect(res.body).toMatchObject({
      status,
      code,
      type: expect.stringMatching(/^urn:bastion:problem:/),
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    expect(res.text).not.toMatch(/ at .*\.(ts|js):\d+/); // no stack trace
    expect(res.text).not.toMatch(/SELECT|node_modules/);
  }

  it('accepts a valid body', async () => {
    const res = await t.http.post('/api/v1/pipeline-probe').send(valid);
    expect(res.status).toBe(201);
    expect(res.body).toEqual(valid);
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await t.http
      .post('/api/v1/pipeline-probe')
      .set('Content-Type', 'application/json')
      .send('{"email": "a@example.com",');
    expectProblem(res, 400, 'MALFORMED_JSON');
  });

  it('refuses an unknown field, naming it', async () => {
    const res = await t.http.post('/api/v1/pipeline-probe').send({ ...valid, isAdmin: true });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.body.errors).toEqual([{ field: 'isAdmin', message: 'property isAdmin should not exist' }]);
  });

  it('refuses a wrong type, listing every broken field including nested ones', async () => {
    const res = await t.http
      .post('/api/v1/pipeline-probe')
      .send({ email: 'not-an-email', quantity: '3', items: [{ symbol: 'X' }, { symbol: 42 }] });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['email', 'quantity', 'items.1.symbol']));
    expect(fields).not.toContain('items.0.symbol');
  });

  it('answers a 2 MB body with 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ ...valid, padding: 'x'.repeat(2 * 1024 * 1024) });
    const res = await t.http.post('/api/v1/pipeline-probe').set('Content-Type', 'application/json').send(big);
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers a non-JSON body with 415', async () => {
    const res = await t.http
      .post('/api/v1/pipeline-probe')
      .set('Content-Type', 'text/plain')
      .send('email=a@example.com');
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an unknown route with 404 ROUTE_NOT_FOUND', async () => {
    const res = await t.http.get('/api/v1/no-such-thing');
    expectProblem(res, 404, 'ROUTE_NOT_FOUND');
    expect(res.body.instance).toBe('/api/v1/no-such-thing');
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const res = await t.http.delete('/api/v1/pipeline-probe');
    expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe('POST');
    const status = await t.http.post('/api/v1/status').send({});
    expectProblem(status, 405, 'METHOD_NOT_ALLOWED');
    expect(status.headers.allow).toBe('GET, HEAD');
  });

  it('turns an unexpected error into a 500 that reveals nothing', async () => {
    const res = await t.http.post('/api/v1/pipeline-probe/boom').send({});
    expectProblem(res, 500, 'INTERNAL_ERROR');
    expect(res.text).not.toContain('secret internal detail');
  });

  it('returns a well-formed X-Request-Id unchanged', async () => {
    const id = 'client-req_42.a:b';
    const res = await t.http.get('/api/v1/status').set('X-Request-Id', id);
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe(id);
    const problem = await t.http.get('/api/v1/nope').set('X-Request-Id', id);
    expect(problem.body.requestId).toBe(id);
  });

  it.each([
    ['with spaces and quotes', 'abc def"'],
    ['too long', 'a'.repeat(129)],
    ['with a newline-like escape', 'abc%0d%0aSet-Cookie:x'],
  ])('replaces a malformed X-Request-Id (%s) with a fresh UUID', async (_label, id) => {
    const res = await t.http.get('/api/v1/status').set('X-Request-Id', id);
    expect(res.headers['x-request-id']).not.toBe(id);
    expect(res.headers['x-request-id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('generates a request id when none is sent, and sets security headers', async () => {
    const res = await t.http.get('/health/live');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
