import helmet from 'helmet';
import { constantHelmetHeaders } from '../../../../src/common/http/security-headers';

describe('helmet headers computed once', () => {
  it('records every header helmet sets, with the configured CSP', () => {
    const { set } = constantHelmetHeaders(
      helmet({ contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'] } } }),
    );
    const headers = Object.fromEntries(set.map(([k, v]) => [k.toLowerCase(), v]));
    expect(headers['content-security-policy']).toContain("img-src 'self' data:");
    expect(headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(set.length).toBeGreaterThanOrEqual(11);
  });
});
