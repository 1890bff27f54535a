import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import type { PassportStatic } from 'passport';
import { Strategy } from 'passport-custom';
import { type AuthenticatedPrincipal, PrincipalsService } from '../principals.service';
import { AppPassport, UNUSED_PASSPORT } from './passport';

export const API_KEY_STRATEGY = 'api-key';

/**
 * API keys (`X-API-Key`), through passport-custom: `validate()` hashes the secret and loads the
 * key, its owner and their group permissions in one query, and refuses a key used from outside
 * its allowed ranges (403) or a revoked, expired or unknown one (401).
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) {
  constructor(
    private readonly principals: PrincipalsService,
    passport: AppPassport,
  ) {
    super();
    passport.use(API_KEY_STRATEGY, this);
  }

  getPassportInstance(): PassportStatic {
    return UNUSED_PASSPORT as PassportStatic;
  }

  async validate(req: Request): Promise<AuthenticatedPrincipal> {
    const secret = req.headers['x-api-key'];
    return this.principals.fromApiKey(typeof secret === 'string' ? secret : '', req.ip);
  }
}
