import { createHash, timingSafeEqual } from 'node:crypto';
import { CidrSet } from '../../common/net/cidr';

/**
 * Who may scrape `/metrics`, from two settings:
 *
 * - `METRICS_TOKEN`: the scraper must send `Authorization: Bearer <token>`;
 * - `METRICS_ALLOW_IPS`: the client address (`req.ip`, which honours TRUSTED_PROXIES) must fall
 *   in one of these addresses or CIDR ranges.
 *
 * With both set, both must pass. With neither set, only loopback clients (127.0.0.0/8, ::1) may
 * scrape: an instance is never open to the network by default, and a sidecar or a local agent
 * works without configuration.
 */
export type MetricsAccessDecision = 'allowed' | 'address-not-allowed' | 'token-missing' | 'token-invalid';

export interface MetricsAccessOptions {
  token?: string;
  allowIps: readonly string[];
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export class MetricsAccessPolicy {
  private readonly allowed: CidrSet;
  private readonly tokenDigest: Buffer | undefined;
  /** Whether the client address is checked at all (false only when a token alone protects). */
  readonly restrictsAddresses: boolean;

  constructor(options: MetricsAccessOptions) {
    this.tokenDigest = options.token ? sha256(options.token) : undefined;
    const ranges = options.allowIps.length > 0 || options.token ? options.allowIps : ['loopback'];
    this.restrictsAddresses = ranges.length > 0;
    this.allowed = new CidrSet(ranges);
  }

  /** Whether a bearer token is required. */
  get requiresToken(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** The decision for a client address and the raw `Authorization` header. */
  check(ip: string | undefined, authorization: string | undefined): MetricsAccessDecision {
    if (this.restrictsAddresses && !this.allowed.has(ip)) return 'address-not-allowed';
    if (!this.tokenDigest) return 'allowed';
    const match = authorization ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization) : null;
    if (!match) return 'token-missing';
    // Both sides hashed first: equal lengths for timingSafeEqual, and nothing learnt from timing.
    return timingSafeEqual(sha256(match[1]), this.tokenDigest) ? 'allowed' : 'token-invalid';
  }
}
