import type { AppConfig } from '../../../../src/common/config/app-config';
import type { RateLimitService } from '../../../../src/security/rate-limit/rate-limit.service';
import { ThreatWindows } from '../../../../src/security/threats/threat-windows';

/** Without Redis (embedded mode, or Redis unreachable) the windows are kept in process. */
describe('ThreatWindows without Redis', () => {
  const windows = () =>
    new ThreatWindows({ redisKeyPrefix: 'x:' } as AppConfig, { sharedRedis: undefined } as unknown as RateLimitService);

  it('counts events per key within the window', async () => {
    const w = windows();
    expect(await w.hit('f', 'a', 1000, 0)).toBe(1);
    expect(await w.hit('f', 'a', 1000, 500)).toBe(2);
    expect(await w.hit('f', 'b', 1000, 500)).toBe(1);
    expect(await w.hit('g', 'a', 1000, 500)).toBe(1); // another window
    expect(await w.hit('f', 'a', 1000, 1200)).toBe(2); // the first left the window
  });

  it('counts distinct members per key within the window', async () => {
    const w = windows();
    expect(await w.distinct('d', 'ip', 'x', 1000, 0)).toBe(1);
    expect(await w.distinct('d', 'ip', 'x', 1000, 100)).toBe(1);
    expect(await w.distinct('d', 'ip', 'y', 1000, 200)).toBe(2);
    expect(await w.distinct('d', 'ip', 'z', 1000, 1150)).toBe(2); // x (last at 100) left
  });

  it('reports a key once per window', async () => {
    const w = windows();
    expect(await w.firstReport('k', 1000, 0)).toBe(true);
    expect(await w.firstReport('k', 1000, 999)).toBe(false);
    expect(await w.firstReport('k', 1000, 1000)).toBe(true);
  });
});
