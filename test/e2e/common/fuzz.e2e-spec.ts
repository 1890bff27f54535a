import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, login } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * OpenAPI-driven fuzzing: every operation of the served `/docs-json` is called with values
 * generated from its own schemas (path and query parameters, JSON bodies): valid-looking values,
 * boundaries (empty, one past min/max length, out-of-range numbers), wrong types and hostile text
 * (NUL, unpaired surrogates, deep nesting, huge numbers). The generator is a seeded PRNG, so a
 * failure replays exactly; the number of cases is bounded. Requests go as a super_admin, so they
 * get past the guard into pipes and services. No answer may be a 5xx.
 */

const SEED = 0x8a5e_2026;
const CASES_PER_OPERATION = Number(process.env.FUZZ_CASES ?? 10);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  additionalProperties?: boolean | Schema;
};
type Parameter = { name: string; in: 'path' | 'query' | 'header' | 'cookie'; required?: boolean; schema?: Schema };
type Operation = {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
};
type Doc = {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: { schemas: Record<string, Schema> };
};

/** mulberry32: small, fast, and the same sequence everywhere for one seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Generator {
  constructor(
    private readonly rnd: () => number,
    private readonly doc: Doc,
  ) {}

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)];
  }
  uuid(): string {
    const hex = (n: number) => Array.from({ length: n }, () => this.int(0, 15).toString(16)).join('');
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
  }

  resolve(schema: Schema | undefined): Schema {
    let s = schema ?? {};
    for (let i = 0; s.$ref && i < 10; i++) s = this.doc.components.schemas[s.$ref.split('/').pop()!] ?? {};
    if (s.allOf) s = Object.assign({}, ...s.allOf.map((x) => this.resolve(x)), { allOf: undefined }) as Schema;
    const alternatives = s.oneOf ?? s.anyOf;
    if (alternatives) s = this.resolve(this.pick(alternatives));
    return s;
  }

  /** Strings that have broken servers: NUL, lone surrogates, SQL and path tricks, huge and empty. */
  hostileString(): string {
    return this.pick([
      'a\u0000b',
      '\u0000',
      '\ud800',
      'x\udc00y',
      "'; DROP TABLE users; --",
      '../../etc/passwd',
      '%00',
      '%',
      '\u202e\u0301',
      'A'.repeat(this.pick([256, 1025, 5000])),
      '',
      ' ',
      '-1',
      '1e309',
      '99999999999999999999999999',
      '2024-02-30T25:61:00Z',
      '0000-00-00',
      '{"k":"x","id":"y"}',
      'eyJrIjoieCIsImlkIjoieSJ9',
      'null',
      '<script>alert(1)</script>',
      '😀'.repeat(40),
    ]);
  }

  /** A value that fits the schema most of the time, its boundaries often, and nothing like it sometimes. */
  value(schema: Schema | undefined, depth = 0): unknown {
    const s = this.resolve(schema);
    const roll = this.rnd();
    if (roll < 0.08) return this.hostileValue(depth);
    if (roll < 0.12 && s.nullable) return null;
    if (s.enum && s.enum.length > 0) return this.chance(0.85) ? this.pick(s.enum) : this.hostileString();
    const type = Array.isArray(s.type) ? this.pick(s.type) : (s.type ?? (s.properties ? 'object' : 'string'));
    switch (type) {
      case 'integer':
      case 'number': {
        const lo = s.minimum ?? -1000;
        const hi = s.maximum ?? 1_000_000;
        return this.pick([
          lo,
          hi,
          lo - 1,
          hi + 1,
          this.int(Math.max(lo, -1e6), Math.min(hi, 1e6)),
          0,
          -1,
          2 ** 53,
          1.5,
        ]);
      }
      case 'boolean':
        return this.chance(0.9) ? this.chance(0.5) : this.pick(['true', 1, 'yes']);
      case 'array': {
        if (depth > 4) return [];
        const n = this.pick([0, 1, 2, 3, (s.maxItems ?? 3) + 1].filter((x) => x <= 20));
        return Array.from({ length: n }, () => this.value(s.items, depth + 1));
      }
      case 'object': {
        if (depth > 4) return {};
        const out: Record<string, unknown> = {};
        const required = new Set(s.required ?? []);
        for (const [name, prop] of Object.entries(s.properties ?? {})) {
          if (required.has(name) ? this.chance(0.93) : this.chance(0.5)) out[name] = this.value(prop, depth + 1);
        }
        if (this.chance(0.05)) out[this.pick(['__proto__', 'constructor', 'role', 'extra'])] = this.hostileString();
        return out;
      }
      default:
        return this.stringFor(s);
    }
  }

  stringFor(s: Schema): string {
    const min = s.minLength ?? 0;
    const max = s.maxLength ?? 64;
    if (this.chance(0.15)) return this.pick(['', 'x'.repeat(Math.min(max + 1, 10_000)), 'x'.repeat(min)]);
    switch (s.format) {
      case 'uuid':
        return this.chance(0.9) ? this.uuid() : this.hostileString();
      case 'date-time':
        return this.pick([
          new Date(Date.UTC(2020, 0, 1) + this.int(0, 2e9) * 1000).toISOString(),
          '1970-01-01T00:00:00Z',
          '9999-12-31T23:59:59Z',
          '+275760-09-13T00:00:00.000Z',
          'not-a-date',
        ]);
      case 'email':
        return this.pick([`fuzz${this.int(0, 999)}@example.com`, 'a@b', '@example.com', 'x@ex\u0000ample.com']);
      default: {
        const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:/@';
        const n = this.int(min, Math.min(max, 40));
        return Array.from({ length: n }, () => this.pick([...alphabet])).join('');
      }
    }
  }

  hostileValue(depth: number): unknown {
    const nested = (levels: number): unknown => {
      let v: unknown = 'deep';
      for (let i = 0; i < levels; i++) v = this.chance(0.5) ? [v] : { a: v };
      return v;
    };
    return this.pick<() => unknown>([
      () => this.hostileString(),
      () => nested(depth + 40),
      () => -1,
      () => 1e308,
      () => Number.MAX_SAFE_INTEGER + 2,
      () => ({}),
      () => [],
      () => true,
      () => null,
    ])();
  }
}

/** A generated value as URL text: objects as JSON, the rest as JavaScript prints them. */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return `${v}`;
  return JSON.stringify(v ?? null);
}

/** Percent-encoding that also carries lone surrogates (as the invalid UTF-8 bytes a hostile client would send). */
function encode(value: string): string {
  return value
    .split(/([\uD800-\uDFFF])/)
    .map((part) => (/^[\uD800-\uDFFF]$/.test(part) ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}

describe('OpenAPI fuzzing (no 5xx for any generated input)', () => {
  let t: TestApp;
  let doc: Doc;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ ...BOOTSTRAP_ENV, REGISTRATION_MODE: 'open' });
    doc = (await t.http.get('/docs-json')).body as Doc;
    token = (await login(t, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken;
  });
  afterAll(() => t?.close());

  it('answers every generated request of every operation without a 5xx', async () => {
    const g = new Generator(prng(SEED), doc);
    const failures: string[] = [];
    let requests = 0;
    let operations = 0;
    const byClass: Record<string, number> = {};
    const started = Date.now();

    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        operations += 1;
        // Signing out or ending every session would only cut the fuzzer's own session short.
        const endsSession = /\/auth\/logout$|\/me\/sessions$/.test(template) && method !== 'get';
        for (let i = 0; i < CASES_PER_OPERATION; i++) {
          let path = template;
          const query: Record<string, string> = {};
          const headers: Record<string, string> = {};
          for (const p of op.parameters ?? []) {
            if (p.in === 'path') {
              const v = g.chance(0.8) ? g.value(p.schema) : g.pick([g.uuid(), g.hostileString(), '0', '-1']);
              path = path.replace(`{${p.name}}`, encode(asText(v)) || '_');
            } else if (p.in === 'query' && (p.required || g.chance(0.6))) {
              query[p.name] = asText(g.value(p.schema));
            } else if (p.in === 'header' && g.chance(0.5)) {
              headers[p.name] = g.stringFor(g.resolve(p.schema)).replace(/[^\x20-\x7e]/g, '');
            }
          }
          const bodySchema = op.requestBody?.content?.['application/json']?.schema;
          let req = t.http[method](path).set('Authorization', `Bearer ${token}`).set(headers);
          const search = Object.entries(query).map(([k, v]) => `${encode(k)}=${encode(v)}`);
          if (search.length > 0)
            req = t.http[method](`${path}?${search.join('&')}`)
              .set('Authorization', `Bearer ${token}`)
              .set(headers);
          // Sent as JSON text, so any value (a bare string, a number, null) can be the body.
          const body = bodySchema ? JSON.stringify(g.value(bodySchema) ?? null) : undefined;
          if (endsSession) continue;
          const send = body === undefined ? req : req.set('Content-Type', 'application/json').send(body);
          const res = await send;
          requests += 1;
          byClass[`${String(res.status)[0]}xx`] = (byClass[`${String(res.status)[0]}xx`] ?? 0) + 1;
          if (res.status >= 500) {
            failures.push(
              `${method.toUpperCase()} ${path} ${JSON.stringify(query)} → ${res.status} ${res.text.slice(0, 200)}`,
            );
          }
          if (res.status === 401 && !template.includes('/auth/')) {
            token = (await login(t, ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken; // e.g. a password or MFA change
          }
        }
      }
    }

    const summary = `fuzz: seed ${SEED}, ${operations} operations, ${requests} generated requests in ${Date.now() - started} ms, answers ${JSON.stringify(byClass)}`;
    console.log(summary);
    expect(operations).toBeGreaterThan(40);
    expect(requests).toBeGreaterThanOrEqual(operations * (CASES_PER_OPERATION - 1));
    expect(failures).toEqual([]);
  }, 120_000);
});
