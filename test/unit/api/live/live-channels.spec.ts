import {
  channelError,
  missingPermissions,
  parseChannel,
  reportRoom,
  roomOf,
} from '../../../../src/api/live/live-channels';
import type { Permission } from '../../../../src/security/rbac/permissions';
import { permissionsForRoles } from '../../../../src/security/rbac/roles';

const ID = '0B6F6D3E-3C1E-4D0A-9A55-0F1F5D1F9B2E';

describe('live channels', () => {
  it('parses fixed channels and per-object channels, ids lower-cased', () => {
    expect(parseChannel('prices')).toEqual({ kind: 'prices', name: 'prices' });
    expect(parseChannel('security-events')).toEqual({ kind: 'security-events', name: 'security-events' });
    expect(parseChannel(`portfolio:${ID}`)).toEqual({
      kind: 'portfolio',
      name: `portfolio:${ID.toLowerCase()}`,
      id: ID.toLowerCase(),
    });
    expect(parseChannel(`report:${ID}`)).toMatchObject({ kind: 'report', id: ID.toLowerCase() });
  });

  it.each([
    undefined,
    42,
    {},
    '',
    'Prices',
    'portfolio:',
    'portfolio:123',
    `portfolios:${ID}`,
    `portfolio:${ID}x`,
    'x'.repeat(65),
  ])('refuses %p', (name) => {
    expect(parseChannel(name)).toBeUndefined();
    expect(channelError(name)).toMatch(/channel|UUID/);
  });

  it('asks each role for what REST asks: viewer reads prices and portfolios, not security events or raw metrics', () => {
    const viewer = permissionsForRoles(['viewer'], []);
    expect(missingPermissions('prices', viewer)).toEqual([]);
    expect(missingPermissions('portfolio', viewer)).toEqual([]);
    expect(missingPermissions('alerts', viewer)).toEqual([]);
    expect(missingPermissions('report', viewer)).toEqual([]);
    expect(missingPermissions('security-events', viewer)).toEqual(['security-events:read']);
    expect(missingPermissions('metrics', viewer)).toEqual(['metrics:read']);
    expect(missingPermissions('security-events', permissionsForRoles(['auditor'], []))).toEqual([]);
    expect(missingPermissions('metrics', permissionsForRoles(['manager'], []))).toEqual([]);
    // An API key scoped to portfolios:read only does not get trades pushed.
    expect(missingPermissions('portfolio', new Set<Permission>(['portfolios:read']))).toEqual(['trades:read']);
  });

  it('gives report progress a room per owner, and other channels one room each', () => {
    const report = parseChannel(`report:${ID}`)!;
    expect(roomOf(report, 'user-1')).toBe(reportRoom(ID, 'user-1'));
    expect(roomOf(report, 'user-1')).not.toBe(roomOf(report, 'user-2'));
    expect(roomOf(parseChannel('prices')!, 'user-1')).toBe('prices');
  });
});
