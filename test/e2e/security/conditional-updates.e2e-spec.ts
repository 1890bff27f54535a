import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

type User = Awaited<ReturnType<typeof createUser>>;

/**
 * ETag, If-None-Match and If-Match on users and groups: two administrators editing one record
 * must not overwrite each other silently.
 */
describe('users and groups: ETag and If-Match', () => {
  let t: TestApp;
  let root: Tokens;
  let admin: User;
  let subject: User;
  let member: User;

  const auditCount = async (action: string, targetId: string): Promise<number> => {
    const res = await t.http.get('/api/v1/audit-events').query({ action, targetId, limit: 100 }).set(bearer(root));
    expect(res.status).toBe(200);
    return (res.body.items as unknown[]).length;
  };

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    [admin, subject, member] = await Promise.all([
      createUser(t, root, ['admin']),
      createUser(t, root, ['trader']),
      createUser(t, root, ['viewer']),
    ]);
  });
  afterAll(() => t?.close());

  it('users: 304 on a current If-None-Match, 412 on a stale If-Match with nothing changed', async () => {
    const read = await t.http.get(`/api/v1/users/${subject.id}`).set(bearer(admin.tokens));
    expect(read.status).toBe(200);
    const etag = read.headers.etag;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const notModified = await t.http
      .get(`/api/v1/users/${subject.id}`)
      .set(bearer(admin.tokens))
      .set('If-None-Match', etag);
    expect(notModified.status).toBe(304);

    const first = await t.http
      .patch(`/api/v1/users/${subject.id}`)
      .set(bearer(root))
      .set('If-Match', etag)
      .send({ firstName: 'Ada' });
    expect(first.status).toBe(200);
    expect(first.headers.etag).not.toBe(etag);

    const second = await t.http
      .patch(`/api/v1/users/${subject.id}`)
      .set(bearer(admin.tokens))
      .set('If-Match', etag)
      .send({ firstName: 'Grace' });
    expect(second.status).toBe(412);
    expect(second.body.code).toBe('PRECONDITION_FAILED');
    const after = await t.http.get(`/api/v1/users/${subject.id}`).set(bearer(admin.tokens));
    expect(after.body.firstName).toBe('Ada');
    expect(after.headers.etag).toBe(first.headers.etag);
    expect(await auditCount('user.profile_updated', subject.id)).toBe(1);

    const malformed = await t.http
      .patch(`/api/v1/users/${subject.id}`)
      .set(bearer(admin.tokens))
      .set('If-Match', 'Ada')
      .send({ firstName: 'Grace' });
    expect(malformed.status).toBe(400);
    // Without If-Match the update is unconditional, as before.
    await t.http.patch(`/api/v1/users/${subject.id}`).set(bearer(admin.tokens)).send({ lastName: 'L' }).expect(200);
    // A role without users:update is refused before any precondition.
    const byMember = await t.http
      .patch(`/api/v1/users/${subject.id}`)
      .set(bearer(member.tokens))
      .set('If-Match', '*')
      .send({ firstName: 'Mallory' });
    expect(byMember.status).toBe(403);
  });

  it('groups: the tag covers members; a stale If-Match refuses PATCH and DELETE with 412', async () => {
    const created = await t.http.post('/api/v1/groups').set(bearer(root)).send({ name: 'Tagged desk' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const etag = (await t.http.get(`/api/v1/groups/${id}`).set(bearer(admin.tokens))).headers.etag;

    // Adding a member changes the representation, so the tag.
    await t.http.put(`/api/v1/groups/${id}/members/${member.id}`).set(bearer(root)).expect(204);
    const withMember = await t.http.get(`/api/v1/groups/${id}`).set(bearer(admin.tokens)).set('If-None-Match', etag);
    expect(withMember.status).toBe(200);
    expect(withMember.body.members).toHaveLength(1);
    const current = withMember.headers.etag;
    expect(current).not.toBe(etag);

    const stalePatch = await t.http
      .patch(`/api/v1/groups/${id}`)
      .set(bearer(admin.tokens))
      .set('If-Match', etag)
      .send({ name: 'Renamed desk' });
    expect(stalePatch.status).toBe(412);
    const staleDelete = await t.http.delete(`/api/v1/groups/${id}`).set(bearer(admin.tokens)).set('If-Match', etag);
    expect(staleDelete.status).toBe(412);
    const unchanged = await t.http.get(`/api/v1/groups/${id}`).set(bearer(admin.tokens));
    expect(unchanged.body.name).toBe('Tagged desk');
    expect(unchanged.headers.etag).toBe(current);
    expect(await auditCount('group.updated', id)).toBe(0);

    const patched = await t.http
      .patch(`/api/v1/groups/${id}`)
      .set(bearer(admin.tokens))
      .set('If-Match', current)
      .send({ name: 'Renamed desk' });
    expect(patched.status).toBe(200);
    expect(patched.body.members).toHaveLength(1);
    const fresh = await t.http.get(`/api/v1/groups/${id}`).set(bearer(admin.tokens));
    expect(fresh.headers.etag).toBe(patched.headers.etag);

    const malformed = await t.http.patch(`/api/v1/groups/${id}`).set(bearer(admin.tokens)).send({ name: '' });
    expect(malformed.status).toBe(400);
    const byMember = await t.http.delete(`/api/v1/groups/${id}`).set(bearer(member.tokens));
    expect(byMember.status).toBe(403);

    await t.http
      .delete(`/api/v1/groups/${id}`)
      .set(bearer(admin.tokens))
      .set('If-Match', patched.headers.etag)
      .expect(204);
    expect((await t.http.get(`/api/v1/groups/${id}`).set(bearer(admin.tokens))).status).toBe(404);
  });
});
