import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { readPackageVersion } from '../version';
import { applyConventions } from './openapi-conventions';
import { operationIdOf } from './operation-ids';
import { ProblemDto } from './problem.dto';
import { applyValidationShim } from './validation-shim';

export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'apiKey';

/** The OpenAPI 3 document served at /docs-json and written by `npm run openapi`. */
export function buildOpenApiDocument(
  app: INestApplication,
  options: { deprecatedVersions?: string[]; permissions?: readonly string[] } = {},
): OpenAPIObject {
  applyValidationShim();
  const config = new DocumentBuilder()
    .setTitle('Bastion API')
    .setDescription(
      [
        'Enterprise backend for trading platforms: identity and security, trading data, monitoring and reports.',
        '',
        '**Versioning**: every resource lives under `/api/v{n}`; `v1` everywhere, `v2` where a resource changed shape.',
        '',
        '**Authentication**: `Authorization: Bearer <access token>` from `POST /api/v1/auth/login`, or `X-API-Key: <key>`: one of the two; a request with both is refused with 400.',
        '',
        '**Signing in from Swagger UI**: open `POST /api/v1/auth/login`, *Try it out* with your email and password and *Execute*: the access token fills *Authorize* (bearer) by itself. Authorizing one scheme signs the other out, and nothing is kept in the browser after a reload.',
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
    operationIdFactory: operationIdOf,
  });
  applyConventions(document, {
    deprecatedVersions: options.deprecatedVersions ?? [],
    permissions: options.permissions ?? [],
  });
  return document;
}
