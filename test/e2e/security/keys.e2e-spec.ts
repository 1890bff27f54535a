import { constants, createHash, createPublicKey, publicEncrypt, verify } from 'node:crypto';
import { importJWK, jwtVerify, SignJWT, compactVerify } from 'jose';
import { KeysService } from '../../../src/security/keys/keys.service';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s) : s).toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString();
/** The bytes of a `bastion:v<N>:<base64>` value. */
const bytesOf = (value: string): Buffer => Buffer.from(value.split(':')[2], 'base64');

describe('Key management (/api/v1/security/keys)', () => {
  let t: TestApp;
  let root: Tokens;
  let admin: { id: string; tokens: Tokens };

  beforeAll(async () => {
    t = await startTestApp({ ...BOOTSTRAP_ENV });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    admin = await createUser(t, root, ['admin']); // holds keys:use, not keys:manage
  });
  afterAll(() => t?.close());

  const post = (path: string, body: object, tokens: Tokens = root) =>
    t.http.post(`/api/v1/security/keys${path}`).set(bearer(tokens)).send(body);
  const createKey = async (body: object) => {
    const res = await post('', body);
    expect(res.status).toBe(201);
    return res.body as { name: string; latestVersion: number };
  };
  const superGrant = [{ subjectType: 'role', subject: 'super_admin' }];

  describe('encrypt, rotate, decrypt old and new, rewrap, retire', () => {
    const context = b64('order-7');
    let v1: string;
    let v2: string;

    it('creates an aes256-gcm key whose material never shows', async () => {
      const res = await post('', { name: 'orders', type: 'aes256-gcm', grants: superGrant });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: 'orders',
        type: 'aes256-gcm',
        latestVersion: 1,
        minDecryptionVersion: 1,
        deletionAllowed: false,
        allowedOperations: ['encrypt', 'decrypt', 'rewrap', 'datakey'],
        grants: superGrant,
      });
      expect(res.body.versions).toEqual([expect.objectContaining({ version: 1, retired: false })]);
      expect(JSON.stringify(res.body)).not.toMatch(/material|wrapped/i);
      expect((await post('', { name: 'orders', type: 'hmac' })).status).toBe(409);
    });

    it('encrypts under v1, rotates, encrypts under v2, and decrypts both', async () => {
      const e1 = await post('/orders/encrypt', { plaintext: b64('card 4111'), context });
      expect(e1.status).toBe(200);
      v1 = e1.body.ciphertext;
      expect(v1).toMatch(/^bastion:v1:[A-Za-z0-9+/]+=*$/);
      expect(e1.body.keyVersion).toBe(1);

      const rotated = await post('/orders/rotate', {});
      expect(rotated.status).toBe(200);
      expect(rotated.body.latestVersion).toBe(2);
      expect(rotated.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);

      v2 = (await post('/orders/encrypt', { plaintext: b64('card 5500'), context })).body.ciphertext;
      expect(v2).toMatch(/^bastion:v2:/);
      const d1 = await post('/orders/decrypt', { ciphertext: v1, context });
      const d2 = await post('/orders/decrypt', { ciphertext: v2, context });
      expect([d1.status, d2.status]).toEqual([200, 200]);
      expect(unb64(d1.body.plaintext)).toBe('card 4111');
      expect(unb64(d2.body.plaintext)).toBe('card 5500');
    });

    it('refuses a wrong context or a tampered ciphertext with DECRYPTION_FAILED', async () => {
      const wrong = await post('/orders/decrypt', { ciphertext: v1, context: b64('order-8') });
      expect(wrong.status).toBe(400);
      expect(wrong.body.code).toBe('DECRYPTION_FAILED');
      const bytes = bytesOf(v2);
      bytes[14] ^= 1;
      const tampered = await post('/orders/decrypt', { ciphertext: `bastion:v2:${bytes.toString('base64')}`, context });
      expect(tampered.body.code).toBe('DECRYPTION_FAILED');
      const unknown = await post('/orders/decrypt', { ciphertext: v1.replace('bastion:v1:', 'bastion:v9:'), context });
      expect(unknown.body.code).toBe('KEY_VERSION_UNAVAILABLE');
    });

    it('rewraps v1 to v2 without returning the plaintext', async () => {
      const res = await post('/orders/rewrap', { ciphertext: v1, context });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['ciphertext', 'keyVersion']);
      expect(res.body.ciphertext).toMatch(/^bastion:v2:/);
      expect(unb64((await post('/orders/decrypt', { ciphertext: res.body.ciphertext, context })).body.plaintext)).toBe(
        'card 4111',
      );
    });

    it('batch: 1,000 items at most, per-item errors, in order', async () => {
      const items = [
        { plaintext: b64('a') },
        { plaintext: 'abc' }, // not base64 (length)
        { plaintext: b64('c'), context },
      ];
      const enc = await post('/orders/encrypt/bulk', { items });
      expect(enc.status).toBe(200);
      expect(enc.body.errors).toBe(1);
      expect(enc.body.results[1]).toEqual({
        index: 1,
        error: { code: 'BAD_REQUEST', message: 'plaintext is not base64' },
      });
      const [a, , c] = enc.body.results as { ciphertext: string }[];
      const dec = await post('/orders/decrypt/bulk', {
        items: [
          { ciphertext: a.ciphertext },
          { ciphertext: c.ciphertext }, // context missing
          { ciphertext: c.ciphertext, context },
          { ciphertext: v1, context },
        ],
      });
      expect(dec.body.results.map((r: { error?: { code: string } }) => r.error?.code ?? 'ok')).toEqual([
        'ok',
        'DECRYPTION_FAILED',
        'ok',
        'ok',
      ]);
      expect(unb64(dec.body.results[2].plaintext)).toBe('c');

      const tooMany = await post('/orders/encrypt/bulk', {
        items: Array.from({ length: 1001 }, () => ({ plaintext: 'AA==' })),
      });
      expect(tooMany.status).toBe(400);
      expect((await post('/orders/encrypt/bulk', { items: [] })).status).toBe(400);
      const full = await post('/orders/encrypt/bulk', {
        items: Array.from({ length: 1000 }, () => ({ plaintext: 'AA==' })),
      });
      expect(full.status).toBe(200);
      expect(full.body.results).toHaveLength(1000);
    });

    it('raising minDecryptionVersion refuses old ciphertexts with KEY_VERSION_RETIRED', async () => {
      const patched = await t.http
        .patch('/api/v1/security/keys/orders')
        .set(bearer(root))
        .send({ minDecryptionVersion: 2 });
      expect(patched.status).toBe(200);
      expect(patched.body.versions).toEqual([
        expect.objectContaining({ version: 1, retired: true }),
        expect.objectContaining({ version: 2, retired: false }),
      ]);
      const old = await post('/orders/decrypt', { ciphertext: v1, context });
      expect(old.status).toBe(400);
      expect(old.body.code).toBe('KEY_VERSION_RETIRED');
      expect(old.body.detail).toMatch(/minDecryptionVersion/);
      expect((await post('/orders/rewrap', { ciphertext: v1, context })).body.code).toBe('KEY_VERSION_RETIRED');
      expect((await post('/orders/decrypt', { ciphertext: v2, context })).status).toBe(200);
      const batch = await post('/orders/decrypt/bulk', {
        items: [
          { ciphertext: v1, context },
          { ciphertext: v2, context },
        ],
      });
      expect(batch.body.results[0].error.code).toBe('KEY_VERSION_RETIRED');
      expect(unb64(batch.body.results[1].plaintext)).toBe('card 5500');
      // Beyond the latest version is a validation error.
      const beyond = await t.http
        .patch('/api/v1/security/keys/orders')
        .set(bearer(root))
        .send({ minDecryptionVersion: 3 });
      expect(beyond.status).toBe(400);
    });

    it('datakey: wrapped only, or with the plaintext; the wrapped one decrypts to it', async () => {
      const wrappedOnly = await post('/orders/datakey', {});
      expect(Object.keys(wrappedOnly.body).sort()).toEqual(['ciphertext', 'keyVersion']);
      const both = await post('/orders/datakey', { withPlaintext: true, bits: 128 });
      expect(Buffer.from(both.body.plaintext, 'base64')).toHaveLength(16);
      expect((await post('/orders/decrypt', { ciphertext: both.body.ciphertext })).body.plaintext).toBe(
        both.body.plaintext,
      );
    });
  });

  describe('governance', () => {
    it('a keys:use holder without a grant is refused; a grant to their group lets them in', async () => {
      await createKey({ name: 'desk', type: 'aes256-gcm', grants: superGrant });
      const refused = await post('/desk/encrypt', { plaintext: b64('x') }, admin.tokens);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('KEY_NOT_GRANTED');
      expect((await post('/desk/encrypt/bulk', { items: [{ plaintext: b64('x') }] }, admin.tokens)).body.code).toBe(
        'KEY_NOT_GRANTED',
      );
      // Management needs keys:manage.
      expect((await post('/desk/rotate', {}, admin.tokens)).status).toBe(403);

      const group = await t.http.post('/api/v1/groups').set(bearer(root)).send({ name: 'Key users', permissions: [] });
      expect(group.status).toBe(201);
      expect((await t.http.put(`/api/v1/groups/${group.body.id}/members/${admin.id}`).set(bearer(root))).status).toBe(
        204,
      );
      const granted = await t.http
        .patch('/api/v1/security/keys/desk')
        .set(bearer(root))
        .send({ grants: [...superGrant, { subjectType: 'group', subject: group.body.id }] });
      expect(granted.status).toBe(200);
      const ok = await post('/desk/encrypt', { plaintext: b64('x') }, admin.tokens);
      expect(ok.status).toBe(200);

      const badGrant = await t.http
        .patch('/api/v1/security/keys/desk')
        .set(bearer(root))
        .send({ grants: [{ subjectType: 'role', subject: 'wizard' }] });
      expect(badGrant.status).toBe(400);
    });

    it('a viewer (no keys:use) is refused before any grant is looked at', async () => {
      const viewer = await createUser(t, root, ['viewer']);
      expect((await post('/desk/encrypt', { plaintext: b64('x') }, viewer.tokens)).status).toBe(403);
    });

    it('allowed operations are enforced per key', async () => {
      await createKey({ name: 'write-only', type: 'aes256-gcm', allowedOperations: ['encrypt'], grants: superGrant });
      const ct = (await post('/write-only/encrypt', { plaintext: b64('x') })).body.ciphertext;
      const refused = await post('/write-only/decrypt', { ciphertext: ct });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('KEY_OPERATION_NOT_ALLOWED');
      const wrongType = await post('', { name: 'bad-ops', type: 'ed25519', allowedOperations: ['encrypt'] });
      expect(wrongType.status).toBe(400);
    });

    it('deletion only when allowed', async () => {
      const refused = await t.http.delete('/api/v1/security/keys/desk').set(bearer(root));
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('KEY_DELETION_NOT_ALLOWED');
      await t.http.patch('/api/v1/security/keys/desk').set(bearer(root)).send({ deletionAllowed: true });
      expect((await t.http.delete('/api/v1/security/keys/desk').set(bearer(root))).status).toBe(204);
      expect((await t.http.get('/api/v1/security/keys/desk').set(bearer(root))).status).toBe(404);
    });

    it('internal keys are listed, show which versions protect data, and refuse API use and deletion', async () => {
      const list = await t.http.get('/api/v1/security/keys').set(bearer(root));
      expect(list.body.items.map((k: { name: string }) => k.name)).toEqual(
        expect.arrayContaining(['bastion-secrets', 'bastion-totp', 'orders']),
      );
      const totp = await t.http.get('/api/v1/security/keys/bastion-totp').set(bearer(root));
      expect(totp.body).toMatchObject({ internal: true, type: 'aes256-gcm', protectedData: {} });
      const use = await post('/bastion-totp/encrypt', { plaintext: b64('x') });
      expect(use.body.code).toBe('KEY_OPERATION_NOT_ALLOWED');
      expect((await t.http.delete('/api/v1/security/keys/bastion-totp').set(bearer(root))).body.code).toBe(
        'KEY_DELETION_NOT_ALLOWED',
      );
      expect((await post('', { name: 'bastion-mine', type: 'hmac' })).status).toBe(400);
    });

    it('audits every management action without key material, and counts use per key and version', async () => {
      const audit = await t.http.get('/api/v1/audit-events?limit=200').set(bearer(root));
      const actions = audit.body.items.map((e: { action: string }) => e.action);
      for (const action of ['key.created', 'key.rotated', 'key.updated', 'key.deleted'])
        expect(actions).toContain(action);
      const rotated = audit.body.items.find((e: { action: string }) => e.action === 'key.rotated');
      expect(rotated.details).toMatchObject({ name: 'orders', version: 2, how: 'manual' });
      expect(JSON.stringify(audit.body)).not.toMatch(/material_wrapped|materialWrapped|BEGIN PRIVATE/);

      const metrics = await t.http.get('/metrics');
      expect(metrics.status).toBe(200);
      const line = metrics.text
        .split('\n')
        .find((l) => l.startsWith('bastion_key_operations_total{key="orders",version="1",operation="encrypt"}'));
      expect(line).toBeDefined();
      expect(Number(line!.split(' ').pop())).toBeGreaterThanOrEqual(1);
      expect(metrics.text).toMatch(/bastion_key_operations_total\{key="orders",version="2",operation="encrypt"\} \d+/);
    });

    it('automatic rotation rotates a key once its period has passed', async () => {
      await createKey({ name: 'rolling', type: 'hmac', autoRotatePeriodSeconds: 3600, grants: superGrant });
      const keys = t.app.get(KeysService);
      expect(await keys.rotateDue(new Date())).not.toContain('rolling');
      expect(await keys.rotateDue(new Date(Date.now() + 3601_000))).toContain('rolling');
      const after = await t.http.get('/api/v1/security/keys/rolling').set(bearer(root));
      expect(after.body.latestVersion).toBe(2);
      // Just rotated: not due again.
      expect(await keys.rotateDue(new Date(Date.now() + 60_000))).not.toContain('rolling');
    });
  });

  describe('interop: Bastion output checked by node:crypto and jose from the exported public key', () => {
    const message = Buffer.from('{"amount":"100.00","to":"42"}');

    it('ed25519: signature verified by node:crypto (PEM) and jose (JWK, as a JWS)', async () => {
      await createKey({ name: 'signer-ed', type: 'ed25519', exportable: true, grants: superGrant });
      const exported = await t.http.get('/api/v1/security/keys/signer-ed/export').set(bearer(root));
      expect(exported.status).toBe(200);
      const [pub] = exported.body.keys;
      expect(pub.pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(pub.jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: 'signer-ed:v1', alg: 'EdDSA' });
      expect(pub.jwk.d).toBeUndefined();

      const signed = await post('/signer-ed/sign', { input: b64(message) });
      expect(signed.body.signature).toMatch(/^bastion:v1:/);
      expect(verify(null, message, createPublicKey(pub.pem), bytesOf(signed.body.signature))).toBe(true);

      // A compact JWS whose signature Bastion made over `header.payload`.
      const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: pub.jwk.kid })).toString('base64url');
      const payload = message.toString('base64url');
      const jwsSig = await post('/signer-ed/sign', { input: b64(`${header}.${payload}`) });
      const jws = `${header}.${payload}.${bytesOf(jwsSig.body.signature).toString('base64url')}`;
      const { payload: verified } = await compactVerify(jws, await importJWK(pub.jwk, 'EdDSA'));
      expect(Buffer.from(verified)).toEqual(message);

      const check = await post('/signer-ed/verify', { input: b64(message), signature: signed.body.signature });
      expect(check.body).toEqual({ valid: true });
      expect((await post('/signer-ed/verify', { input: b64('other'), signature: signed.body.signature })).body).toEqual(
        {
          valid: false,
        },
      );
      expect(
        (await post('/signer-ed/sign', { input: b64(createHash('sha256').update(message).digest()), prehashed: true }))
          .status,
      ).toBe(400);
    });

    it('ecdsa-p256: an ES256 JWT signed by Bastion verifies with jose; prehashed signatures with node:crypto', async () => {
      await createKey({ name: 'signer-ec', type: 'ecdsa-p256', exportable: true, grants: superGrant });
      const { keys } = (await t.http.get('/api/v1/security/keys/signer-ec/export').set(bearer(root))).body;
      const jwk = keys[0].jwk;
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
      const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT' })).toString('base64url');
      const claims = Buffer.from(JSON.stringify({ sub: 'u1', iss: 'bastion' })).toString('base64url');
      const sig = await post('/signer-ec/sign', { input: b64(`${header}.${claims}`) });
      const jwt = `${header}.${claims}.${bytesOf(sig.body.signature).toString('base64url')}`;
      const { payload } = await jwtVerify(jwt, await importJWK(jwk, 'ES256'), { issuer: 'bastion' });
      expect(payload.sub).toBe('u1');

      const digest = createHash('sha256').update(message).digest();
      const pre = await post('/signer-ec/sign', { input: b64(digest), prehashed: true });
      expect(
        verify(
          'sha256',
          message,
          { key: createPublicKey(keys[0].pem), dsaEncoding: 'ieee-p1363' },
          bytesOf(pre.body.signature),
        ),
      ).toBe(true);

      // And the other way: a JWS made by jose with another key is not Bastion's.
      const { generateKeyPair } = await import('jose');
      const other = await generateKeyPair('ES256');
      const foreign = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'ES256' }).sign(other.privateKey);
      const [h, p, s] = foreign.split('.');
      const check = await post('/signer-ec/verify', {
        input: b64(`${h}.${p}`),
        signature: `bastion:v1:${Buffer.from(s, 'base64url').toString('base64')}`,
      });
      expect(check.body).toEqual({ valid: false });
    });

    it('rsa-3072: RSA-OAEP ciphertext made by node:crypto from the exported key decrypts in Bastion; RSA-PSS signatures verify', async () => {
      await createKey({ name: 'rsa', type: 'rsa-3072', exportable: true, grants: superGrant });
      const { keys } = (await t.http.get('/api/v1/security/keys/rsa/export?version=1').set(bearer(root))).body;
      const publicKey = createPublicKey(keys[0].pem);
      expect(keys[0].jwk).toMatchObject({ kty: 'RSA', alg: 'PS256', e: 'AQAB' });
      const label = Buffer.from('invoice-9');
      const ciphertext = publicEncrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label },
        message,
      );
      const dec = await post('/rsa/decrypt', {
        ciphertext: `bastion:v1:${ciphertext.toString('base64')}`,
        context: b64(label),
      });
      expect(dec.status).toBe(200);
      expect(Buffer.from(dec.body.plaintext, 'base64')).toEqual(message);

      const pss = { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
      const signed = await post('/rsa/sign', { input: b64(message) });
      expect(verify('sha256', message, pss, bytesOf(signed.body.signature))).toBe(true);
      const pre = await post('/rsa/sign', {
        input: b64(createHash('sha256').update(message).digest()),
        prehashed: true,
      });
      expect(verify('sha256', message, pss, bytesOf(pre.body.signature))).toBe(true);
      const jwt = await post('/rsa/sign/bulk', {
        items: [{ input: b64(message) }, { input: b64(message), keyVersion: 5 }],
      });
      expect(jwt.body.results[1].error.code).toBe('KEY_VERSION_UNAVAILABLE');
    });

    it('hmac: 32-byte HMAC-SHA-256 under the latest version, verified in constant time, altered input refused', async () => {
      const hm = await post('/rolling/hmac', { input: b64(message) });
      expect(hm.body.hmac).toMatch(/^bastion:v2:/);
      expect(bytesOf(hm.body.hmac)).toHaveLength(32);
      expect((await post('/rolling/hmac/verify', { input: b64(message), hmac: hm.body.hmac })).body).toEqual({
        valid: true,
      });
      const altered = await post('/rolling/hmac/verify/bulk', {
        items: [
          { input: b64('x'), hmac: hm.body.hmac },
          { input: b64(message), hmac: hm.body.hmac },
        ],
      });
      expect(altered.body.results.map((r: { valid: boolean }) => r.valid)).toEqual([false, true]);
    });

    it('non-exportable and symmetric keys export nothing', async () => {
      expect((await t.http.get('/api/v1/security/keys/orders/export').set(bearer(root))).body.code).toBe(
        'KEY_OPERATION_NOT_ALLOWED',
      );
      expect((await post('', { name: 'sym-export', type: 'aes256-gcm', exportable: true })).status).toBe(400);
    });
  });
});
