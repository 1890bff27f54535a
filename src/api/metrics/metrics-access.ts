import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

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

/** The ranges behind Express's (proxy-addr's) names, which the address settings also accept. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export class MetricsAccessPolicy {
  private readonly allowed = new BlockList();
  private readonly tokenDigest: Buffer | undefined;
  /** Whether the client address is checked at all (false only when a token alone protects). */
  readonly restrictsAddresses: boolean;

  constructor(options: MetricsAccessOptions) {
    this.tokenDigest = options.token ? sha256(options.token) : undefined;
    const ranges = options.allowIps.length > 0 || options.token ? options.allowIps : ['loopback'];
    this.restrictsAddresses = ranges.length > 0;
    for (const range of ranges.flatMap((r) => NAMED_RANGES[r] ?? [r])) {
      const [address, bits] = range.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(address) === 0) throw new Error(`not an address or CIDR range: ${range}`);
      if (bits === undefined) this.allowed.addAddress(address, family);
      else this.allowed.addSubnet(address, Number(bits), family);
    }
  }

  /** Whether a bearer token is required. */
  get requiresToken(): boolean {
    return this.tokenDigest !== undefined;
  }

  /** The decision for a client address and the raw `Authorization` header. */
  check(ip: string | undefined, authorization: string | undefined): MetricsAccessDecision {
    if (this.restrictsAddresses && !this.addressAllowed(ip)) return 'address-not-allowed';
    if (!this.tokenDigest) return 'allowed';
    const match = authorization ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization) : null;
    if (!match) return 'token-missing';
    // Both sides hashed first: equal lengths for timingSafeEqual, and nothing learnt from timing.
    return timingSafeEqual(sha256(match[1]), this.tokenDigest) ? 'allowed' : 'token-invalid';
  }

  private addressAllowed(ip: string | undefined): boolean {
    if (!ip) return false;
    const family = isIP(ip);
    if (family === 0) return false;
    return this.allowed.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }
}
