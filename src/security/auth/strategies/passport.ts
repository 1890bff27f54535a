import { Injectable } from '@nestjs/common';
import { Passport } from 'passport';

/**
 * This application's own passport instance. Strategies register here rather than on passport's
 * process-wide singleton, so two applications in one process (the e2e tests start several, with
 * different secrets and databases) never authenticate with each other's strategies.
 */
@Injectable()
export class AppPassport extends Passport {}

/** Where @nestjs/passport's mixin registers a strategy by itself; each strategy re-registers on {@link AppPassport}. */
export const UNUSED_PASSPORT = new Passport();
