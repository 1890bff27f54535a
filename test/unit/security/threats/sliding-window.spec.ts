import { DistinctWindow, SlidingWindow } from '../../../../src/security/threats/sliding-window';

describe('sliding windows', () => {
  it('counts events within the window only', () => {
    const w = new SlidingWindow(1000);
    expect(w.add('a', 0)).toBe(1);
    expect(w.add('a', 500)).toBe(2);
    expect(w.add('a', 999)).toBe(3);
    expect(w.add('a', 1500)).toBe(2); // 0 and 500 fell out of the window: 999 and 1500 remain
    expect(w.add('b', 1500)).toBe(1);
  });

  it('stays bounded in keys, dropping the least recently used', () => {
    const w = new SlidingWindow(1000, 2);
    w.add('a', 0);
    w.add('b', 0);
    w.add('a', 1);
    w.add('c', 2); // evicts b
    expect(w.add('b', 3)).toBe(1);
    expect(w.add('a', 4)).toBe(1); // b's return evicted a, then the least recently used
  });

  it('counts distinct members per key within the window', () => {
    const d = new DistinctWindow(1000);
    expect(d.add('ip', 'x', 0).distinct).toBe(1);
    expect(d.add('ip', 'x', 10).distinct).toBe(1);
    expect(d.add('ip', 'y', 20).distinct).toBe(2);
    expect(d.add('ip', 'z', 1015).distinct).toBe(2); // x (last seen 10) expired
  });
});
