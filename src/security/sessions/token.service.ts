import { createHash, createHmac, createSecretKey, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';

export interface AccessClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export interface ParsedRefreshToken {
  sessionId: string;
  generation: number;
}

const ALGORITHM = 'HS256' as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Access tokens are HS256 JWTs; refresh tokens are `<session>.<generation>.<HMAC>` under a key of
 * their own. Both are derived from the session's state, so the same generation always yields the
 * same pair: concurrent refreshes within the grace window get identical tokens without the server
 * ever storing a token (only SHA-256 of the current refresh token).
 */
@Injectable()
export class TokenService {
  /** A KeyObject, not a Buffer: given a Buffer, jsonwebtoken first tries (and fails) to parse it as a public key on every call. */
  private readonly accessKey: KeyObject;
  private readonly refreshKey: Buffer;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    const derive = (info: string): Buffer =>
      Buffer.from(hkdfSync('sha256', config.secrets.jwtSecret, 'bastion', info, 32));
    this.accessKey = createSecretKey(derive('access-token/v1'));
    this.refreshKey = derive('refresh-token/v1');
  }

  /** The pair for a session's current generation; `issuedAt` is when that generation was issued. */
  pair(userId: string, sessionId: string, generation: number, issuedAt: Date): TokenPair {
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const ttl = this.config.auth.accessTokenTtlSeconds;
    const claims: AccessClaims = {
      sub: userId,
      sid: sessionId,
      iat,
      exp: iat + ttl,
      iss: this.config.auth.issuer,
      aud: this.config.auth.audience,
    };
    const accessToken = jwt.sign(claims, this.accessKey, { algorithm: ALGORITHM }); // keeps our iat: same generation, same token
    const refreshToken = this.refreshToken(sessionId, generation);
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: Math.max(0, iat + ttl - Math.floor(Date.now() / 1000)),
    };
  }

  /**
   * How access tokens are verified, for the passport JWT strategy and {@link verifyAccess}: the key,
   * HS256 only (`none` and every other algorithm are refused), issuer, audience, expiry with 5 s of skew.
   */
  get accessVerification(): {
    key: KeyObject;
    options: { algorithms: ['HS256']; issuer: string; audience: string; clockTolerance: number };
  } {
    return {
      key: this.accessKey,
      options: {
        algorithms: [ALGORITHM],
        issuer: this.config.auth.issuer,
        audience: this.config.auth.audience,
        clockTolerance: 5,
      },
    };
  }

  /** The claims of a verified token when they have the shape this server issues (`sub`, `sid` a UUID). */
  static claimsOf(payload: unknown): AccessClaims | null {
    const claims = payload as Partial<AccessClaims> | null;
    if (!claims || typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || !UUID.test(claims.sid)) {
      return null;
    }
    return claims as AccessClaims;
  }

  /** Verifies signature, issuer, audience and expiry ({@link accessVerification}) and the claims' shape. */
  verifyAccess(token: string): AccessClaims | null {
    try {
      return TokenService.claimsOf(jwt.verify(token, this.accessKey, this.accessVerification.options));
    } catch {
      return null;
    }
  }

  refreshToken(sessionId: string, generation: number): string {
    return `${sessionId}.${generation}.${this.mac(sessionId, generation)}`;
  }

  /** Parses and authenticates a refresh token; null for anything this server did not issue. */
  parseRefresh(token: string): ParsedRefreshToken | null {
    const parts = token.split('.');
    if (parts.length !== 3 || !UUID.test(parts[0]) || !/^\d{1,9}$/.test(parts[1])) return null;
    const generation = Number(parts[1]);
    const expected = Buffer.from(this.mac(parts[0], generation));
    const given = Buffer.from(parts[2]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return { sessionId: parts[0], generation };
  }

  static hash(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  private mac(sessionId: string, generation: number): string {
    return createHmac('sha256', this.refreshKey).update(`${sessionId}.${generation}`).digest('base64url');
  }
}
