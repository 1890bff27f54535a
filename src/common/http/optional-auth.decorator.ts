import { SetMetadata } from '@nestjs/common';

export const OPTIONAL_AUTH = 'bastion:optional-auth';

/**
 * On a `@Public()` route: credentials, when sent and valid, are still checked and put on the
 * request (`req.principal`), so the route can show more to a caller with a permission. Invalid or
 * missing credentials leave the caller anonymous; they never fail the request.
 */
export const OptionalAuthentication = (): MethodDecorator & ClassDecorator => SetMetadata(OPTIONAL_AUTH, true);
