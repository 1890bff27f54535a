import { parseEnv } from '../../../../src/common/config/app-config';
import { problemsOf } from '../../support/config-problems';

describe('metrics settings', () => {
  it('default to no token and no address list (loopback-only scraping)', () => {
    const env = parseEnv({});
    expect(env.METRICS_TOKEN).toBeUndefined();
    expect(env.METRICS_ALLOW_IPS).toEqual([]);
  });

  it('parse a token and a list of addresses and ranges', () => {
    const token = 'f'.repeat(64);
    const env = parseEnv({ METRICS_TOKEN: token, METRICS_ALLOW_IPS: '10.0.0.0/8, 2001:db8::/32,192.0.2.7,loopback' });
    expect(env.METRICS_TOKEN).toBe(token);
    expect(env.METRICS_ALLOW_IPS).toEqual(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7', 'loopback']);
  });

  it('refuse a short token without repeating it in the message', () => {
    const problems = problemsOf({ METRICS_TOKEN: 'hunter2-guessable' });
    expect(problems).toEqual([expect.stringMatching(/^METRICS_TOKEN must be at least 32 characters/)]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('refuse an address list with something that is not an address or range', () => {
    expect(problemsOf({ METRICS_ALLOW_IPS: '10.0.0.0/8,prometheus.internal' })).toEqual([
      expect.stringMatching(/^METRICS_ALLOW_IPS must be a comma-separated list of IP addresses or CIDR ranges/),
    ]);
    expect(problemsOf({ METRICS_ALLOW_IPS: '10.0.0.0/33' })).toHaveLength(1);
  });
});
