import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import type { PassportStatic } from 'passport';
import { Strategy } from 'passport-jwt';
import { TokenService } from '../../sessions/token.service';
import { type AuthenticatedPrincipal, invalidAccessToken, PrincipalsService } from '../principals.service';
import { AppPassport, UNUSED_PASSPORT } from './passport';

export const JWT_STRATEGY = 'jwt';

/** RFC 9110 §11.1: the scheme is case-insensitive ("bearer", "BEARER"). */
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** The token of `Authorization: Bearer <token>`; null when the header has another form. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.authorization;
  return header ? (BEARER.exec(header)?.[1] ?? null) : null;
}

/**
 * Access tokens (`Authorization: Bearer`), through passport-jwt: it verifies the signature
 * (HS256 only), issuer, audience and expiry with TokenService's key and options; `validate()`
 * checks the claims' shape and loads session, user and group permissions in one query, so a
 * revoked session or a suspended user fails on the next request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    tokens: TokenService,
    private readonly principals: PrincipalsService,
    passport: AppPassport,
  ) {
    const { key, options } = tokens.accessVerification;
    super({
      jwtFromRequest: bearerToken,
      secretOrKey: key as unknown as string, // jsonwebtoken takes a KeyObject too
      algorithms: options.algorithms,
      issuer: options.issuer,
      audience: options.audience,
      jsonWebTokenOptions: { clockTolerance: options.clockTolerance },
    });
    passport.use(JWT_STRATEGY, this);
  }

  getPassportInstance(): PassportStatic {
    return UNUSED_PASSPORT as PassportStatic;
  }

  async validate(payload: unknown): Promise<AuthenticatedPrincipal> {
    const claims = TokenService.claimsOf(payload);
    if (!claims) throw invalidAccessToken();
    return this.principals.fromClaims(claims);
  }
}
