import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '../errors/problem';
import { ProblemDto } from './problem.dto';
import { readPackageVersion } from '../version';

export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'apiKey';

/** Errors any operation can answer with, whatever it declares: added to every operation. */
const COMMON_PROBLEMS: Record<string, string> = {
  '500': 'An unexpected error; quote `requestId` when reporting it.',
};

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/** The OpenAPI 3 document served at /docs-json and written by `npm run openapi`. */
export function buildOpenApiDocument(
  app: INestApplication,
  options: { deprecatedVersions?: string[] } = {},
): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Bastion API')
    .setDescription(
      [
        'Enterprise backend for trading platforms: identity and security, trading data, monitoring and reports.',
        '',
        '**Versioning**: every resource lives under `/api/v{n}`; `v1` everywhere, `v2` where a resource changed shape.',
        '',
        '**Authentication**: `Authorization: Bearer <access token>` from `POST /api/v1/auth/login`, or `X-API-Key: <key>`.',
        '',
        '**Errors** are RFC 9457 `application/problem+json` with a stable `code`, the `requestId` and, for validation, `errors[]`.',
        '',
        '**Lists** take `?limit=&cursor=` and answer `{items, nextCursor}`.',
        '',
        '**Request ids**: send `X-Request-Id` (letters, digits, `._:-`, up to 128) to correlate; it comes back on every response.',
        '',
        '**Live updates**: the Socket.IO namespace `/live` pushes trades, prices, revaluations, security events, metrics, alerts and report progress under the same permissions; its AsyncAPI 3 document is at [/docs/asyncapi.json](/docs/asyncapi.json).',
      ].join('\n'),
    )
    .setVersion(readPackageVersion())
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from POST /api/v1/auth/login' },
      BEARER_SCHEME,
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key created at POST /api/v1/api-keys' },
      API_KEY_SCHEME,
    )
    .build();

  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ProblemDto],
    operationIdFactory: (controllerKey, methodKey, version) => {
      const base = `${lowerFirst(controllerKey.replace(/Controller$/, ''))}_${methodKey}`;
      const v = version?.replace(/^v/, '');
      return v && v !== '1' ? `${base}_v${v}` : base;
    },
  });
  addCommonProblems(document);
  markDeprecated(document, options.deprecatedVersions ?? []);
  return document;
}

function addCommonProblems(document: OpenAPIObject): void {
  for (const pathItem of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const operation = pathItem[method];
      if (!operation) continue;
      for (const [status, description] of Object.entries(COMMON_PROBLEMS)) {
        operation.responses[status] ??= {
          description,
          content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ProblemDto' } } },
        };
      }
    }
  }
}

/** Operations of versions listed in DEPRECATED_API_VERSIONS are flagged `deprecated: true`. */
function markDeprecated(document: OpenAPIObject, versions: string[]): void {
  if (versions.length === 0) return;
  for (const [path, pathItem] of Object.entries(document.paths)) {
    const version = /^\/api\/v(\d+)\//.exec(path)?.[1];
    if (!version || !versions.includes(version)) continue;
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const operation = pathItem[method];
      if (operation) operation.deprecated = true;
    }
  }
}
