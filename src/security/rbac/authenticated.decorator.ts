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

/** The authenticated caller: `me(@CurrentPrincipal() principal: Principal)`. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<Request>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without @Authenticated()');
  return principal;
});
