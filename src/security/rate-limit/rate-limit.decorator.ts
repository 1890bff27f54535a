import { SetMetadata } from '@nestjs/common';

export const RATE_LIMIT_CLASS = 'bastion:rate-limit-class';

/**
 * Puts a route under the strict per-IP limit for credential endpoints (RATE_LIMIT_AUTH_PER_MINUTE):
 * login, registration, MFA verification and token refresh. Each route has its own count.
 */
export const StrictRateLimit = (): MethodDecorator => SetMetadata(RATE_LIMIT_CLASS, 'auth');
