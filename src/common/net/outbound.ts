import { lookup } from 'node:dns/promises';
import { CidrSet, NAMED_RANGES } from './cidr';

/**
 * Destinations an outbound webhook may not reach when its SSRF guard is on: loopback, link-local
 * (cloud metadata at 169.254.169.254), private and unique-local ranges, "this network" and CGNAT.
 */
export const PRIVATE_DESTINATIONS = new CidrSet([
  ...NAMED_RANGES.loopback,
  ...NAMED_RANGES.linklocal,
  ...NAMED_RANGES.uniquelocal,
  '0.0.0.0/8',
  '100.64.0.0/10',
  '::/128',
]);

/**
 * Resolves the URL's host and throws when any of its addresses is private (see above). `setting`
 * names the switch that turned the guard on, so the error tells an operator where it comes from.
 * Checked before every attempt, so a name that starts resolving to a private address is caught.
 */
export async function assertPublicDestination(url: string | URL, setting: string): Promise<void> {
  const host = (typeof url === 'string' ? new URL(url) : url).hostname.replace(/^\[|\]$/g, '');
  const addresses = await lookup(host, { all: true });
  if (addresses.some((a) => PRIVATE_DESTINATIONS.has(a.address))) {
    throw new Error(`webhook destination is in a private or loopback range (${setting})`);
  }
}
