import { RouteMatcher } from '../../../../src/api/routes/route-matcher';

describe('RouteMatcher', () => {
  const matcher = new RouteMatcher<string>();
  for (const [method, path] of [
    ['GET', '/api/v1/users'],
    ['POST', '/api/v1/users'],
    ['GET', '/api/v1/users/:id'],
    ['GET', '/api/v1/users/me'],
    ['PUT', '/api/v1/groups/:id/members/:userId'],
    ['GET', '/api/v2/portfolios/:id'],
    ['GET', '/metrics'],
    ['ALL', '/api/v1/anything'],
    ['GET', '/files/*rest'],
  ]) {
    matcher.add(method, path, `${method} ${path}`);
  }

  it.each([
    ['GET', '/api/v1/users', 'GET /api/v1/users'],
    ['POST', '/api/v1/users', 'POST /api/v1/users'],
    ['GET', '/api/v1/users/4f2a0c1e-0000-4000-8000-000000000000', 'GET /api/v1/users/:id'],
    ['GET', '/api/v1/users/me', 'GET /api/v1/users/me'],
    ['GET', '/API/V1/Users/', 'GET /api/v1/users'],
    ['PUT', '/api/v1/groups/g1/members/u2', 'PUT /api/v1/groups/:id/members/:userId'],
    ['GET', '/api/v2/portfolios/p1', 'GET /api/v2/portfolios/:id'],
    ['GET', '/metrics', 'GET /metrics'],
    ['DELETE', '/api/v1/anything', 'ALL /api/v1/anything'],
    ['GET', '/files/a/b/c', 'GET /files/*rest'],
  ])('%s %s → %s', (method, path, expected) => {
    expect(matcher.match(method, path)).toBe(expected);
  });

  it.each([
    ['DELETE', '/api/v1/users'], // known path, other method
    ['GET', '/api/v1/users/a/b'], // one segment too many
    ['GET', '/api/v3/portfolios/p1'],
    ['GET', '/'],
    ['GET', '/files'], // a wildcard needs at least one segment
    ['GET', '/wp-login.php'],
  ])('%s %s matches nothing', (method, path) => {
    expect(matcher.match(method, path)).toBeUndefined();
  });

  it('does not index templates with optional parts or several parameters in one segment', () => {
    const m = new RouteMatcher<string>();
    expect(m.add('GET', '/a{/:b}', 'x')).toBe(false);
    expect(m.add('GET', '/flights/:from-:to', 'y')).toBe(false);
    expect(m.add('GET', '/a/*rest/b', 'z')).toBe(false);
    expect(m.match('GET', '/flights/a-b')).toBeUndefined();
  });

  it('keeps the first template added for a shape', () => {
    const m = new RouteMatcher<string>();
    m.add('GET', '/x/:id', 'first');
    m.add('GET', '/x/:other', 'second');
    expect(m.match('GET', '/x/1')).toBe('first');
  });
});
