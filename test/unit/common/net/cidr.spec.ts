import { CidrSet, normalizeCidr } from '../../../../src/common/net/cidr';

describe('CIDR parsing and matching', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1/32'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['::1', '::1/128'],
  ])('normalises %s to %s', (input, cidr) => {
    expect(normalizeCidr(input)?.cidr).toBe(cidr);
  });

  it.each(['10.0.0.0/33', '::/129', 'example.com', '10.0.0.1/8/1', '10.0.0.1/x', ''])('refuses %s', (input) => {
    expect(normalizeCidr(input)).toBeNull();
  });

  it('matches IPv4, IPv6 and IPv4-mapped IPv6 addresses', () => {
    const set = new CidrSet(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    expect(set.has('10.200.1.1')).toBe(true);
    expect(set.has('::ffff:10.1.2.3')).toBe(true);
    expect(set.has('2001:db8:1::5')).toBe(true);
    expect(set.has('192.0.2.7')).toBe(true);
    expect(set.has('192.0.2.8')).toBe(false);
    expect(set.has('11.0.0.1')).toBe(false);
    expect(set.has(undefined)).toBe(false);
    expect(set.has('garbage')).toBe(false);
  });
});
