import { randomBytes } from 'node:crypto';
import { buildConfig, parseEnv } from '../../../src/common/config/app-config';
import { DeprecationMiddleware } from '../../../src/common/http/deprecation.middleware';
import { problemsOf } from '../support/config-problems';

function interceptorFor(env: Record<string, string>): DeprecationMiddleware {
  const config = buildConfig(parseEnv(env), {
    jwtSecret: randomBytes(32),
    masterKey: randomBytes(32),
    source: 'provided',
  });
  return new DeprecationMiddleware(config);
}

function headersFor(middleware: DeprecationMiddleware, url: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const req = { originalUrl: url, url } as never;
  const res = { setHeader: (name: string, value: string) => (headers[name] = value) } as never;
  let nextCalled = false;
  middleware.use(req, res, () => (nextCalled = true));
  expect(nextCalled).toBe(true);
  return headers;
}

describe('API version deprecation settings and headers', () => {
  it('parses DEPRECATED_API_VERSIONS: a sunset, or a deprecation start and a sunset', () => {
    expect(parseEnv({}).DEPRECATED_API_VERSIONS).toEqual([]);
    expect(parseEnv({ DEPRECATED_API_VERSIONS: '1=2027-06-30' }).DEPRECATED_API_VERSIONS).toEqual([
      { version: '1', deprecatedAt: new Date(0), sunsetAt: new Date('2027-06-30T00:00:00Z') },
    ]);
    expect(
      parseEnv({ DEPRECATED_API_VERSIONS: ' v1=2026-01-01/2027-06-30 , 2=2028-01-01T12:00:00+02:00' })
        .DEPRECATED_API_VERSIONS,
    ).toEqual([
      { version: '1', deprecatedAt: new Date('2026-01-01T00:00:00Z'), sunsetAt: new Date('2027-06-30T00:00:00Z') },
      { version: '2', deprecatedAt: new Date(0), sunsetAt: new Date('2028-01-01T10:00:00Z') },
    ]);
    expect(parseEnv({}).API_MIGRATION_NOTES_URL).toBe('/docs');
  });

  it.each([
    ['1=2027-02-30'],
    ['one=2027-01-01'],
    ['1=2028-01-01/2027-01-01'],
    ['1=2027-01-01,1=2028-01-01'],
    ['1=soon'],
    ['1'],
  ])('refuses DEPRECATED_API_VERSIONS=%s, naming the variable', (value) => {
    const problems = problemsOf({ DEPRECATED_API_VERSIONS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DEPRECATED_API_VERSIONS must be comma-separated <version>=<sunset date>/);
  });

  it('refuses a migration notes URL that is neither http(s) nor a path', () => {
    expect(problemsOf({ API_MIGRATION_NOTES_URL: 'ftp://x' })[0]).toMatch(/^API_MIGRATION_NOTES_URL must be/);
  });

  it('sets Deprecation, Sunset and Link on the deprecated version only', () => {
    const interceptor = interceptorFor({
      DEPRECATED_API_VERSIONS: '1=2026-01-01/2027-06-30',
      API_MIGRATION_NOTES_URL: 'https://docs.example.com/api/v{version}-migration',
    });
    expect(headersFor(interceptor, '/api/v1/portfolios?limit=5')).toEqual({
      Deprecation: '@1767225600',
      Sunset: 'Wed, 30 Jun 2027 00:00:00 GMT',
      Link: '<https://docs.example.com/api/v1-migration>; rel="deprecation"; type="text/html"',
    });
    expect(headersFor(interceptor, '/api/v2/portfolios/x')).toEqual({});
    expect(headersFor(interceptor, '/api/v10/portfolios')).toEqual({});
    expect(headersFor(interceptor, '/health/live')).toEqual({});
  });

  it('uses the epoch when no deprecation date is given, and the docs by default', () => {
    const headers = headersFor(interceptorFor({ DEPRECATED_API_VERSIONS: '1=2027-06-30' }), '/api/v1/me');
    expect(headers).toEqual({
      Deprecation: '@0',
      Sunset: 'Wed, 30 Jun 2027 00:00:00 GMT',
      Link: '</docs>; rel="deprecation"; type="text/html"',
    });
  });

  it('does nothing when no version is deprecated', () => {
    expect(headersFor(interceptorFor({}), '/api/v1/me')).toEqual({});
  });
});
