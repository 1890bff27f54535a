import { randomUUID } from 'node:crypto';
import {
  ChainVerifier,
  GENESIS_HASH,
  computeEntryHash,
  sealAuditEntry,
  verifyChain,
  type AuditEntry,
  type ChainKey,
  type UnsealedAuditEntry,
} from '../../../../src/security/audit/audit-chain';
import { AuditChainKeys, deriveAuditChainKey } from '../../../../src/security/audit/audit-chain-keys';

const MASTER = Buffer.alloc(32, 0x5a);
const NEXT_MASTER = Buffer.alloc(32, 0x3c);
const keys = new AuditChainKeys({ current: 1, material: (v) => (v === 1 ? MASTER : v === 2 ? NEXT_MASTER : null) });
const KEY_1: ChainKey = { version: 1, key: keys.key(1)! };
const KEY_2: ChainKey = { version: 2, key: keys.key(2)! };
const lookup = (version: number) => keys.key(version);

function unsealed(seq: number, details: Record<string, unknown> = {}): UnsealedAuditEntry {
  return {
    id: randomUUID(),
    seq: String(seq),
    occurredAt: new Date(Date.UTC(2026, 10, 1, 12, 0, seq)).toISOString(),
    actorType: 'user',
    actorId: randomUUID(),
    action: 'trade.recorded',
    targetType: 'portfolio',
    targetId: randomUUID(),
    outcome: 'success',
    ip: '203.0.113.7',
    requestId: randomUUID(),
    details: { amount: '100', step: seq, ...details },
  };
}

/** A chain sealed entry by entry, with the key of each position (undefined: plain SHA-256). */
function build(schemes: (ChainKey | undefined)[]): AuditEntry[] {
  const chain: AuditEntry[] = [];
  let prevHash = GENESIS_HASH;
  schemes.forEach((key, i) => {
    const entry = sealAuditEntry(unsealed(i + 1), prevHash, key);
    chain.push(entry);
    prevHash = entry.hash;
  });
  return chain;
}

/**
 * What an attacker with write access to the database but without the key does: edits an entry,
 * then recomputes every hash from there on with plain SHA-256, marking the entries unkeyed or
 * leaving their key version as it was.
 */
function rewriteWithoutKey(chain: AuditEntry[], at: number, markUnkeyed: boolean): AuditEntry[] {
  const out = chain.slice(0, at);
  let prevHash = at === 0 ? GENESIS_HASH : chain[at - 1].hash;
  for (let i = at; i < chain.length; i++) {
    const { hash: _hash, prevHash: _prev, ...fields } = chain[i];
    const edited = {
      ...fields,
      details: i === at ? { ...fields.details, amount: '1' } : fields.details,
      keyVersion: markUnkeyed ? 0 : fields.keyVersion,
    };
    // computeEntryHash refuses a keyed entry without its key, so the forger hashes by hand as it would.
    const hash = computeEntryHash({ ...edited, keyVersion: 0 }, prevHash);
    out.push({ ...edited, prevHash, hash });
    prevHash = hash;
  }
  return out;
}

describe('keyed audit chain (HMAC-SHA256 under a versioned key derived from the master key)', () => {
  it('derives one key per version with HKDF, and none for a version it does not hold', () => {
    expect(KEY_1.key).toHaveLength(32);
    expect(KEY_1.key.equals(deriveAuditChainKey(MASTER, 1))).toBe(true);
    expect(KEY_1.key.equals(MASTER)).toBe(false);
    expect(deriveAuditChainKey(MASTER, 2).equals(KEY_1.key)).toBe(false);
    expect(keys.key(3)).toBeNull();
    expect(keys.key(0)).toBeNull();
    expect(keys.current.version).toBe(1);
  });

  it('seals with an HMAC that names its key version and differs from the plain SHA-256', () => {
    const entry = unsealed(1);
    const keyed = sealAuditEntry(entry, GENESIS_HASH, KEY_1);
    const plain = sealAuditEntry(entry, GENESIS_HASH);
    expect(keyed.keyVersion).toBe(1);
    expect(plain.keyVersion).toBe(0);
    expect(keyed.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(keyed.hash).not.toBe(plain.hash);
    expect(sealAuditEntry(entry, GENESIS_HASH, { version: 1, key: deriveAuditChainKey(NEXT_MASTER, 1) }).hash).not.toBe(
      keyed.hash,
    );
  });

  it('verifies a keyed chain only with the right key', () => {
    const chain = build([KEY_1, KEY_1, KEY_1]);
    expect(verifyChain(chain, GENESIS_HASH, lookup)).toEqual({ ok: true, checked: 3 });
    const otherMaster = new AuditChainKeys({ current: 1, material: () => NEXT_MASTER });
    expect(verifyChain(chain, GENESIS_HASH, (v) => otherMaster.key(v))).toMatchObject({
      ok: false,
      firstBadSeq: '1',
      reason: 'hash_mismatch',
    });
    expect(verifyChain(chain)).toMatchObject({ ok: false, firstBadSeq: '1', reason: 'unknown_key' });
  });

  it('detects history rewritten and re-hashed with plain SHA-256, whether marked unkeyed or not', () => {
    const chain = build([KEY_1, KEY_1, KEY_1, KEY_1]);
    // Kept as "keyed": the plain digest is not the HMAC.
    expect(verifyChain(rewriteWithoutKey(chain, 1, false), GENESIS_HASH, lookup)).toMatchObject({
      ok: false,
      checked: 1,
      firstBadSeq: '2',
      reason: 'hash_mismatch',
    });
    // Marked unkeyed after a keyed entry: a downgrade.
    expect(verifyChain(rewriteWithoutKey(chain, 1, true), GENESIS_HASH, lookup)).toMatchObject({
      ok: false,
      checked: 1,
      firstBadSeq: '2',
      reason: 'scheme_downgrade',
    });
    // The whole log rewritten unkeyed links up as a plain chain, but ends unkeyed: the service
    // refuses such a head (`unkeyed_head`), as every entry it writes is keyed.
    const forged = rewriteWithoutKey(chain, 0, true);
    const verifier = new ChainVerifier(GENESIS_HASH, lookup);
    for (const entry of forged) verifier.push(entry);
    expect(verifier.result()).toEqual({ ok: true, checked: 4 });
    expect(verifier.lastKeyVersion).toBe(0);
  });

  it('refuses a key version swapped on an intact entry', () => {
    const chain = build([KEY_1, KEY_2]);
    expect(verifyChain(chain, GENESIS_HASH, lookup)).toEqual({ ok: true, checked: 2 });
    const swapped = chain.map((e, i) => (i === 1 ? { ...e, keyVersion: 1 } : e));
    expect(verifyChain(swapped, GENESIS_HASH, lookup)).toMatchObject({
      ok: false,
      firstBadSeq: '2',
      reason: 'hash_mismatch',
    });
    const older = build([KEY_2, KEY_1]);
    expect(verifyChain(older, GENESIS_HASH, lookup)).toMatchObject({
      ok: false,
      firstBadSeq: '2',
      reason: 'scheme_downgrade',
    });
  });

  it('verifies an existing unkeyed prefix under its old scheme, and says which scheme each segment used', () => {
    const chain = build([undefined, undefined, undefined, KEY_1, KEY_1, KEY_2]);
    const verifier = new ChainVerifier(GENESIS_HASH, lookup);
    for (const entry of chain) expect(verifier.push(entry)).toBeNull();
    expect(verifier.result()).toEqual({ ok: true, checked: 6 });
    expect(verifier.segments).toEqual([
      { scheme: 'sha256', keyVersion: 0, firstSeq: '1', lastSeq: '3', entries: 3 },
      { scheme: 'hmac-sha256', keyVersion: 1, firstSeq: '4', lastSeq: '5', entries: 2 },
      { scheme: 'hmac-sha256', keyVersion: 2, firstSeq: '6', lastSeq: '6', entries: 1 },
    ]);
    expect(verifier.lastKeyVersion).toBe(2);
  });

  it('protects the unkeyed prefix too: rewriting it breaks the link into the first keyed entry', () => {
    const chain = build([undefined, undefined, undefined, KEY_1, KEY_1]);
    const forgedPrefix = rewriteWithoutKey(chain.slice(0, 3), 1, true);
    expect(verifyChain([...forgedPrefix, ...chain.slice(3)], GENESIS_HASH, lookup)).toMatchObject({
      ok: false,
      checked: 3,
      firstBadSeq: '4',
      reason: 'broken_link',
    });
  });
});
