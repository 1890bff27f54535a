import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  HeaderObject,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem';

/**
 * The conventions every operation follows, applied once to the whole document after Nest built it,
 * so controllers declare only what is particular to them. Each pass is small and named; the
 * OpenAPI spec (test/e2e/common/openapi.e2e-spec.ts) checks the result, and Redocly and Spectral
 * lint it in CI (`npm run lint:openapi`).
 */

export const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** One description per tag; a tag used by an operation and missing here fails the OpenAPI spec. */
export const TAG_DESCRIPTIONS: Record<string, string> = {
  auth: 'Register, sign in (password, then TOTP when enrolled), refresh and sign out. Tokens are JWTs; refresh tokens rotate.',
  me: "The caller's own account: profile, effective permissions, sessions, password, activity and TOTP enrolment.",
  users: 'User administration: accounts, roles, status, lockouts, sessions and activity.',
  groups: 'Groups of users, with permissions granted to every member and portfolios shared with them.',
  roles: 'The fixed roles and the permissions each grants, inherited ones included.',
  'api-keys':
    'API keys for integrators (`X-API-Key`), scoped to a subset of the owner’s permissions; the secret is shown once.',
  security: 'IP allow/deny rules and the security events raised by threat detection.',
  keys: 'Named keys held by the server: encrypt, decrypt, sign, verify, HMAC and data keys, with rotation and rewrap.',
  audit: 'The append-only, hash-chained audit log and its verification.',
  portfolios: 'Portfolios, their positions and valuation, and sharing with groups.',
  trades: 'Trades of a portfolio: single and bulk ingestion (idempotent) and history.',
  prices: 'Price ingestion, single and bulk; prices revalue the portfolios that hold the symbol.',
  monitoring: 'Metric history, the dashboard, alert rules, alerts and silences.',
  reports: 'Report templates and runs: generate CSV, JSON or PDF reports and download them.',
  'report-schedules': 'Reports generated on a cron schedule and delivered by email or webhook.',
  observability: 'Prometheus metrics and per-route API statistics.',
  system: 'Instance status: version, mode, uptime and dependency checks.',
  health: 'Liveness and readiness probes for orchestrators.',
  live: 'The Socket.IO gateway `/live`, described by an AsyncAPI 3 document.',
};

const REQUEST_ID: HeaderObject = {
  description:
    'The request id: the client’s `X-Request-Id` when well-formed, a fresh UUID otherwise. Also in problem bodies as `requestId`.',
  schema: { type: 'string', example: '4f1c9c3e-0a55-4e0b-9d0e-8d0f7b3c2a11' },
};

/** Headers declared once under components.headers and referenced from responses. */
export const HEADERS: Record<string, HeaderObject> = {
  'X-Request-Id': REQUEST_ID,
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer', minimum: 0, example: 30 },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed in the current window by the tightest limit that applies.',
    schema: { type: 'integer', minimum: 0, example: 300 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window.',
    schema: { type: 'integer', minimum: 0, example: 299 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the window resets.',
    schema: { type: 'integer', minimum: 0, example: 42 },
  },
  'Idempotent-Replayed': {
    description: '`true` when this answer is the stored answer to an earlier request with the same `Idempotency-Key`.',
    schema: { type: 'string', enum: ['true'] },
  },
  Deprecation: {
    description: 'RFC 9745: when this API version was deprecated, as `@<unix seconds>`.',
    schema: { type: 'string', example: '@1798761600' },
  },
  Sunset: {
    description: 'RFC 8594: when this API version may stop answering (HTTP-date).',
    schema: { type: 'string', example: 'Thu, 01 Jul 2027 00:00:00 GMT' },
  },
  Link: {
    description: 'RFC 8288 links; `rel="deprecation"` points to the migration notes of a deprecated version.',
    schema: {
      type: 'string',
      example: '<https://docs.example.com/api/migrate-v1>; rel="deprecation"; type="text/html"',
    },
  },
  ETag: {
    description:
      'Entity tag of the representation; send it back in `If-None-Match` (304 when unchanged) or `If-Match` (412 when stale).',
    schema: { type: 'string', example: '"3f2a9c"' },
  },
};

const headerRef = (name: string): ReferenceObject => ({ $ref: `#/components/headers/${name}` });
const problemContent = { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ProblemDto' } } };

export const PROBLEM_DESCRIPTIONS: Record<string, string> = {
  '413': 'The request body is larger than the server accepts.',
  '415': 'The request body is not `application/json`.',
  '429': 'Too many requests; retry after `Retry-After` seconds. `limit` names the limit that was hit.',
  '500': 'An unexpected error; quote `requestId` when reporting it.',
};

export function operationsOf(document: OpenAPIObject): [path: string, method: string, op: OperationObject][] {
  return Object.entries(document.paths).flatMap(([path, item]: [string, PathItemObject]) =>
    METHODS.filter((m) => item[m]).map((m) => [path, m, item[m]!] as [string, string, OperationObject]),
  );
}

const isRef = (x: unknown): x is ReferenceObject => typeof x === 'object' && x !== null && '$ref' in x;

/** Applies every convention below, in order. */
export function applyConventions(
  document: OpenAPIObject,
  options: { deprecatedVersions: string[]; permissions: readonly string[] },
): void {
  document.servers = [{ url: '/', description: 'This server' }];
  document.info.license ??= { name: 'Proprietary' };
  document.components ??= {};
  document.components.headers = { ...document.components.headers, ...HEADERS };
  declareTags(document);
  for (const [, , op] of operationsOf(document)) {
    op.security ??= []; // public: say so, rather than inherit nothing by omission
    addCommonProblems(op);
    declareHeaders(op);
    typeParameters(op);
  }
  markDeprecated(document, options.deprecatedVersions);
  usePermissionEnum(document, options.permissions);
  describeRequestDefaults(document);
  pruneUnusedHeaders(document);
}

/**
 * A server default on a request-only schema is said in words, not as `default`: generators
 * (openapi-typescript among them) read `default` as "always present" and would make callers send
 * what the server fills in. Schemas that also appear in responses keep `default`.
 */
function describeRequestDefaults(document: OpenAPIObject): void {
  const schemas = document.components!.schemas ?? {};
  const inResponses = new Set<string>();
  const refsIn = (value: unknown): string[] =>
    [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
  const pending = operationsOf(document).flatMap(([, , op]) => refsIn(op.responses));
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (inResponses.has(name)) continue;
    inResponses.add(name);
    pending.push(...refsIn(schemas[name] ?? {}));
  }
  for (const [name, schema] of Object.entries(schemas)) {
    if (inResponses.has(name) || isRef(schema)) continue;
    for (const property of Object.values(schema.properties ?? {})) {
      if (isRef(property) || property.default === undefined) continue;
      const said = `Default: \`${JSON.stringify(property.default)}\`.`;
      property.description = property.description ? `${property.description} ${said}` : said;
      delete property.default;
    }
  }
}

/** Headers no response refers to (Deprecation while no version is deprecated, say) are left out. */
function pruneUnusedHeaders(document: OpenAPIObject): void {
  const text = JSON.stringify(document.paths);
  const headers = document.components!.headers!;
  for (const name of Object.keys(headers)) {
    if (!text.includes(`"#/components/headers/${name}"`)) delete headers[name];
  }
}

function declareTags(document: OpenAPIObject): void {
  const used = new Set(operationsOf(document).flatMap(([, , op]) => op.tags ?? []));
  document.tags = [...used].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? '' }));
}

/** 429 and 500 everywhere; 413 and 415 where a body is accepted. */
function addCommonProblems(op: OperationObject): void {
  const statuses = ['429', '500', ...(op.requestBody ? ['413', '415'] : [])];
  for (const status of statuses) {
    op.responses[status] ??= { description: PROBLEM_DESCRIPTIONS[status], content: problemContent };
  }
  const tooMany = op.responses['429'] as ResponseObject;
  tooMany.headers = {
    ...tooMany.headers,
    'Retry-After': headerRef('Retry-After'),
    'RateLimit-Limit': headerRef('RateLimit-Limit'),
    'RateLimit-Remaining': headerRef('RateLimit-Remaining'),
    'RateLimit-Reset': headerRef('RateLimit-Reset'),
  };
  const unavailable = op.responses['503'] as ResponseObject | undefined;
  if (unavailable && !isRef(unavailable)) {
    unavailable.headers = { ...unavailable.headers, 'Retry-After': headerRef('Retry-After') };
  }
}

function declareHeaders(op: OperationObject): void {
  const params = (op.parameters ?? []).filter((p): p is ParameterObject => !isRef(p));
  const idempotent = params.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
  const conditional = params.some((p) => p.in === 'header' && p.name.toLowerCase() === 'if-none-match');
  for (const [status, response] of Object.entries(op.responses)) {
    if (!response || isRef(response)) continue;
    const headers: Record<string, ReferenceObject> = { 'X-Request-Id': headerRef('X-Request-Id') };
    if (/^2/.test(status)) {
      headers['RateLimit-Limit'] = headerRef('RateLimit-Limit');
      headers['RateLimit-Remaining'] = headerRef('RateLimit-Remaining');
      headers['RateLimit-Reset'] = headerRef('RateLimit-Reset');
      if (idempotent) headers['Idempotent-Replayed'] = headerRef('Idempotent-Replayed');
      if (conditional) headers.ETag = headerRef('ETag');
    }
    response.headers = { ...headers, ...response.headers };
  }
  if (conditional) {
    op.responses['304'] ??= {
      description: 'Not modified: the `If-None-Match` tag is current.',
      headers: { ETag: headerRef('ETag') },
    };
  }
}

/** Path ids are UUIDs (every `:id`, `:userId`, `:groupId` is parsed as one); `limit` is an integer. */
function typeParameters(op: OperationObject): void {
  for (const p of op.parameters ?? []) {
    if (isRef(p) || !p.schema || isRef(p.schema)) continue;
    const schema = p.schema;
    if (p.in === 'path' && /^(id|\w+Id)$/.test(p.name) && schema.type === 'string') schema.format ??= 'uuid';
    if (p.in === 'query' && p.name === 'limit' && schema.type === 'number') schema.type = 'integer';
  }
}

/**
 * `deprecated: true` on an operation of a version listed in DEPRECATED_API_VERSIONS only where a
 * newer version of the same operation exists (same method and path after the version): deprecating
 * v1 must not strike through operations that have no successor. Every answer under a deprecated
 * version still carries Deprecation, Sunset and Link (the middleware), declared here.
 */
function markDeprecated(document: OpenAPIObject, versions: string[]): void {
  if (versions.length === 0) return;
  const key = (method: string, rest: string): string => `${method} ${rest}`;
  const versionsOf = new Map<string, number[]>();
  const ops = operationsOf(document).map(([path, method, op]) => {
    const m = /^\/api\/v(\d+)(\/.*)$/.exec(path);
    const k = m ? key(method, m[2]) : undefined;
    if (m && k) versionsOf.set(k, [...(versionsOf.get(k) ?? []), Number(m[1])]);
    return { version: m?.[1], k, op };
  });
  for (const { version, k, op } of ops) {
    if (!version || !k || !versions.includes(version)) continue;
    for (const response of Object.values(op.responses)) {
      if (!response || isRef(response)) continue;
      response.headers = {
        ...response.headers,
        Deprecation: headerRef('Deprecation'),
        Sunset: headerRef('Sunset'),
        Link: headerRef('Link'),
      };
    }
    if ((versionsOf.get(k) ?? []).some((v) => v > Number(version))) op.deprecated = true;
  }
}

/** Permission lists everywhere use one `Permission` enum schema. */
function usePermissionEnum(document: OpenAPIObject, permissions: readonly string[]): void {
  if (permissions.length === 0) return;
  const schemas = (document.components!.schemas ??= {});
  schemas.Permission = { type: 'string', enum: [...permissions], description: 'A `resource:action` permission.' };
  const visit = (schema: SchemaObject | ReferenceObject | undefined, name?: string): void => {
    if (!schema || isRef(schema)) return;
    if (name && /^(permissions|missingPermissions|scopes)$/.test(name) && schema.type === 'array') {
      const items = schema.items as SchemaObject | undefined;
      if (items && !isRef(items) && items.type === 'string') schema.items = { $ref: '#/components/schemas/Permission' };
    }
    for (const [prop, child] of Object.entries(schema.properties ?? {})) visit(child, prop);
    if (schema.items) visit(schema.items);
  };
  for (const [name, schema] of Object.entries(schemas)) if (name !== 'Permission') visit(schema);
}
