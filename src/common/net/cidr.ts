import { BlockList, isIP } from 'node:net';

/** The ranges behind Express's (proxy-addr's) names, which the address settings also accept. */
export const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** An address or CIDR range, IPv4 or IPv6; with `names`, also `loopback`, `linklocal`, `uniquelocal`. */
export function isAddressOrRange(value: string, options: { names?: boolean } = {}): boolean {
  return (options.names === true && value in NAMED_RANGES) || normalizeCidr(value) !== null;
}

/**
 * Parses an address or CIDR range into a normalised CIDR (`10.0.0.0/8`, `2001:db8::/32`; a single
 * address becomes /32 or /128), or returns null when it is neither.
 */
export function normalizeCidr(
  value: string,
): { cidr: string; address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address, bits, ...rest] = value.trim().split('/');
  if (rest.length > 0) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  return { cidr: `${address.toLowerCase()}/${prefix}`, address, prefix, family };
}

/**
 * A set of ranges answering "does this address fall in one of them?" (IPv4-mapped IPv6 included).
 * Express's range names (`loopback`, ...) stand for their ranges.
 */
export class CidrSet {
  private readonly list = new BlockList();
  private count = 0;

  constructor(cidrs: Iterable<string> = []) {
    for (const c of cidrs) this.add(c);
  }

  add(value: string): void {
    const named = NAMED_RANGES[value];
    if (named) {
      for (const range of named) this.add(range);
      return;
    }
    const parsed = normalizeCidr(value);
    if (!parsed) throw new Error(`not an address or CIDR range: ${value}`);
    this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  has(ip: string | undefined): boolean {
    if (!ip || this.count === 0) return false;
    const version = isIP(ip);
    if (version === 0) return false;
    return this.list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  }
}
