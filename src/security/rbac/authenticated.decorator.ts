import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { API_KEY_SCHEME, BEARER_SCHEME } from '../../common/openapi/openapi';
import type { Principal } from '../auth/principal';
import type { Permission } from './permissions';

export const REQUIRED_PERMISSIONS = 'bastion:permissions';

/**
 * The one way a route asks for credentials: a bearer token or an API key, holding every permission
 * listed (none listed: any authenticated caller). It also documents the route's security and its
 * 401/403 answers in OpenAPI. Routes without this or `@Public()` are denied by the global guard.
 */
export function Authenticated(...permissions: Permission[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_PERMISSIONS, permissions),
    ApiBearerAuth(BEARER_SCHEME),
    ApiSecurity(API_KEY_SCHEME),
    ApiProblems(401, 403),
  );
}

export const SESSION_ONLY = 'bastion:session-only';

/**
 * Routes for people, never for API keys: the caller's own account (`/me`: profile, password,
 * sessions, MFA), API-key management and signing out. The global guard answers an API key with
 * 403 SESSION_REQUIRED, whatever its scopes, so a stolen key cannot change the password, turn MFA
 * off, mint more keys or hide its traces. On a controller it covers every route of it.
 */
export function SessionOnly(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(SESSION_ONLY, true), ApiProblems(403));
}

/** The authenticated caller: `me(@CurrentPrincipal() principal: Principal)`. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<Request>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without @Authenticated()');
  return principal;
});
