import { MetricsAccessPolicy } from '../../../../src/api/metrics/metrics-access';

const TOKEN = 'a'.repeat(20) + 'metrics-scrape-token';

describe('MetricsAccessPolicy', () => {
  describe('with neither setting', () => {
    const policy = new MetricsAccessPolicy({ allowIps: [] });

    it('lets loopback clients scrape, IPv4 and IPv6, also IPv4-mapped', () => {
      for (const ip of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
        expect({ ip, decision: policy.check(ip, undefined) }).toEqual({ ip, decision: 'allowed' });
      }
    });

    it('refuses every other address, and a request without one', () => {
      for (const ip of [
        '10.0.0.5',
        '192.168.1.1',
        '203.0.113.9',
        '2001:db8::1',
        '::ffff:10.0.0.5',
        undefined,
        'junk',
      ]) {
        expect({ ip, decision: policy.check(ip, undefined) }).toEqual({ ip, decision: 'address-not-allowed' });
      }
      expect(policy.requiresToken).toBe(false);
      expect(policy.restrictsAddresses).toBe(true);
    });
  });

  describe('with METRICS_TOKEN only', () => {
    const policy = new MetricsAccessPolicy({ token: TOKEN, allowIps: [] });

    it('accepts the token from any address', () => {
      expect(policy.check('203.0.113.9', `Bearer ${TOKEN}`)).toBe('allowed');
      expect(policy.check('127.0.0.1', `bearer ${TOKEN}`)).toBe('allowed');
      expect(policy.restrictsAddresses).toBe(false);
    });

    it('refuses a missing or malformed header as missing, and another token as invalid', () => {
      expect(policy.check('127.0.0.1', undefined)).toBe('token-missing');
      expect(policy.check('127.0.0.1', TOKEN)).toBe('token-missing');
      expect(policy.check('127.0.0.1', `Basic ${TOKEN}`)).toBe('token-missing');
      expect(policy.check('127.0.0.1', `Bearer ${TOKEN}x`)).toBe('token-invalid');
      expect(policy.check('127.0.0.1', `Bearer ${TOKEN.slice(0, -1)}`)).toBe('token-invalid');
      expect(policy.check('127.0.0.1', 'Bearer x')).toBe('token-invalid');
    });
  });

  describe('with METRICS_ALLOW_IPS only', () => {
    const policy = new MetricsAccessPolicy({ allowIps: ['10.0.0.0/8', '2001:db8::/32', '198.51.100.7'] });

    it('accepts addresses in the ranges without a token, and no longer loopback', () => {
      for (const ip of ['10.1.2.3', '::ffff:10.1.2.3', '2001:db8:1::5', '198.51.100.7']) {
        expect({ ip, decision: policy.check(ip, undefined) }).toEqual({ ip, decision: 'allowed' });
      }
      for (const ip of ['11.0.0.1', '198.51.100.8', '2001:db9::1', '127.0.0.1']) {
        expect({ ip, decision: policy.check(ip, undefined) }).toEqual({ ip, decision: 'address-not-allowed' });
      }
    });

    it('understands the names loopback, linklocal and uniquelocal', () => {
      const named = new MetricsAccessPolicy({ allowIps: ['loopback', 'uniquelocal'] });
      expect(named.check('::1', undefined)).toBe('allowed');
      expect(named.check('172.20.0.3', undefined)).toBe('allowed');
      expect(named.check('fd00::1', undefined)).toBe('allowed');
      expect(named.check('8.8.8.8', undefined)).toBe('address-not-allowed');
    });
  });

  describe('with both', () => {
    const policy = new MetricsAccessPolicy({ token: TOKEN, allowIps: ['10.0.0.0/8'] });

    it('requires both the address and the token', () => {
      expect(policy.check('10.0.0.1', `Bearer ${TOKEN}`)).toBe('allowed');
      expect(policy.check('10.0.0.1', undefined)).toBe('token-missing');
      expect(policy.check('192.0.2.1', `Bearer ${TOKEN}`)).toBe('address-not-allowed');
    });
  });

  it('refuses a range it cannot parse at construction', () => {
    expect(() => new MetricsAccessPolicy({ allowIps: ['not-an-ip'] })).toThrow(/not an address/);
  });
});
