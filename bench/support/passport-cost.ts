/**
 * What passport adds to one bearer-token check, measured in this process with the libraries and
 * options Bastion uses (JwtStrategy: passport-jwt through @nestjs/passport's mixin and
 * passport.authenticate, HS256 with issuer, audience and 5 s of skew), against jsonwebtoken's
 * verify alone (what the guard did before). `validate()` answers at once here: the principal's
 * query is the same either way and is left out.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassportStrategy } from '@nestjs/passport';
import jwt from 'jsonwebtoken';
import { Passport } from 'passport';
import { ExtractJwt, Strategy } from 'passport-jwt';

export interface PassportCost {
  /** Microseconds per check through passport. */
  passportUs: number;
  /** Microseconds per check with jsonwebtoken alone. */
  directUs: number;
  iterations: number;
}

const OPTIONS = { algorithms: ['HS256' as const], issuer: 'bastion', audience: 'bastion-api', clockTolerance: 5 };

export async function measurePassportCost(iterations = 20_000): Promise<PassportCost> {
  const key = createSecretKey(randomBytes(32));
  const token = jwt.sign({ sid: '00000000-0000-4000-8000-000000000000' }, key, {
    algorithm: 'HS256',
    subject: 'user',
    issuer: OPTIONS.issuer,
    audience: OPTIONS.audience,
    expiresIn: 900,
  });
  const passport = new Passport();
  class BenchJwtStrategy extends PassportStrategy(Strategy, 'jwt') {
    constructor() {
      super({
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: key as unknown as string,
        algorithms: OPTIONS.algorithms,
        issuer: OPTIONS.issuer,
        audience: OPTIONS.audience,
        jsonWebTokenOptions: { clockTolerance: OPTIONS.clockTolerance },
      });
      passport.use('jwt', this);
    }
    getPassportInstance(): never {
      return new Passport() as never;
    }
    validate(payload: unknown): unknown {
      return payload;
    }
  }
  new BenchJwtStrategy();
  const res = {} as ServerResponse;
  const viaPassport = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = { headers: { authorization: `Bearer ${token}` } } as unknown as IncomingMessage;
      (
        passport.authenticate('jwt', { session: false }, (err: unknown, user: unknown) =>
          err || !user ? reject(err instanceof Error ? err : new Error('refused')) : resolve(user),
        ) as (req: IncomingMessage, res: ServerResponse, next: () => void) => void
      )(req, res, () => reject(new Error('no verdict')));
    });
  const direct = (): Promise<unknown> =>
    Promise.resolve(jwt.verify(/^Bearer +(.+)$/i.exec(`Bearer ${token}`)![1], key, OPTIONS));

  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 2000; i++) await fn(); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    return ((performance.now() - t0) * 1000) / iterations;
  };
  // Interleaved rounds, best of three each: the machine is shared, the minimum is the cost.
  const passportTimes: number[] = [];
  const directTimes: number[] = [];
  for (let round = 0; round < 3; round++) {
    passportTimes.push(await time(viaPassport));
    directTimes.push(await time(direct));
  }
  return { passportUs: Math.min(...passportTimes), directUs: Math.min(...directTimes), iterations };
}
