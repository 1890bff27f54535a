import { createHash, createHmac } from 'node:crypto';

/**
 * Hash chaining for the tamper-evident audit log.
 *
 * Two schemes, named per entry by `keyVersion`:
 * - `hmac-sha256` (keyVersion ≥ 1, every entry written today): HMAC-SHA256 under the chain key
 *   of that version, derived from the master key (see `audit-chain-keys.ts`). Someone who can
 *   write the database but does not hold the key cannot recompute the hashes of rewritten entries.
 * - `sha256` (keyVersion 0): plain SHA-256, the scheme of entries written before the chain was
 *   keyed. Still verified as such, but only as a prefix of the chain: once a keyed entry has been
 *   seen, an unkeyed (or older-key) entry is a downgrade, and the first keyed entry's MAC covers
 *   the last unkeyed hash, so the old prefix cannot be rewritten either.
 *
 * Each entry stores `prevHash` (the previous entry's `hash`) and its own `hash`, a SHA-256 over the
 * previous hash and a canonical serialisation of every other field. Editing a row breaks its own
 * hash; re-hashing an edited row breaks the next row's link; deleting a row breaks the link of
 * the row after it. The storage layer keeps this meaningful by writing entries one at a time
 * under a lock on the chain head, in the same transaction as the change they record.
 *
 * What a chain alone cannot show: truncation of the newest entries. Compare the verified head
 * (`ChainVerifier.lastHash` / `lastSeq`) with an anchor kept elsewhere to cover that.
 */

/** Who acted: a logged-in user, an API key, or Bastion itself (scheduler, bootstrap). */
export type AuditActorType = 'user' | 'api_key' | 'system';

/** `denied` is an authorisation refusal; `failure` is an attempt that failed (bad password, error). */
export type AuditOutcome = 'success' | 'failure' | 'denied';

/** One row of the audit log, as stored and as returned by `GET /api/v1/audit-events`. */
export interface AuditEntry {
  /** UUID, lower case. */
  id: string;
  /** Position in the chain: a bigint as a decimal string, increasing (gaps are allowed). */
  seq: string;
  /** ISO 8601 UTC, as `Date#toISOString()` produces it. */
  occurredAt: string;
  actorType: AuditActorType;
  actorId: string | null;
  /** What happened, e.g. `auth.login`, `user.roles.changed`. */
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: AuditOutcome;
  ip: string | null;
  requestId: string | null;
  /** Action-specific facts. Pass them through {@link redactSecrets} first. */
  details: Record<string, unknown>;
  /** `hash` of the previous entry, {@link GENESIS_HASH} for the first. */
  prevHash: string;
  /** Hex digest computed by {@link computeEntryHash}. */
  hash: string;
  /**
   * The chain key version the entry is sealed under (HMAC-SHA256); 0 or absent: plain SHA-256,
   * the scheme of entries written before the chain was keyed.
   */
  keyVersion?: number;
}

/** An entry before it is sealed into the chain. */
export type UnsealedAuditEntry = Omit<AuditEntry, 'hash' | 'prevHash' | 'keyVersion'> & {
  prevHash?: string;
  keyVersion?: number;
};

/** A chain key: HMAC-SHA256 key material and its version (≥ 1). */
export interface ChainKey {
  version: number;
  key: Buffer;
}

/** The key of a version, or null when it is not held. */
export type ChainKeyLookup = (version: number) => Buffer | null;

/** How a run of entries is hashed. */
export type ChainScheme = 'sha256' | 'hmac-sha256';

export function schemeOf(keyVersion: number | undefined): ChainScheme {
  return keyVersion ? 'hmac-sha256' : 'sha256';
}

/** The `prevHash` of the very first entry: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Deterministic JSON, in the style of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers written as `JSON.stringify` writes them, arrays in order.
 *
 * Hashes are computed when an entry is written and recomputed when it is read back, after a trip
 * through PostgreSQL `jsonb`, which reorders keys and drops formatting. So the output must depend
 * only on the data, and everything `jsonb` would change is normalised the same way here:
 * `undefined` object members are omitted, `undefined` array elements and holes become `null`,
 * `-0` becomes `0`, and values with a `toJSON` method (`Date`, decimal types) are replaced by its
 * result, as `JSON.stringify` does.
 *
 * What JSON cannot represent throws a `TypeError` instead of being silently lost: non-finite
 * numbers, bigints, functions, symbols, `Map`/`Set`, circular references, and a top-level
 * `undefined`.
 */
export function canonicalJson(value: unknown): string {
  const out = serialise(value, new Set<object>());
  if (out === undefined) throw new TypeError('canonicalJson: undefined has no JSON form');
  return out;
}

function serialise(value: unknown, ancestors: Set<object>): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case 'bigint':
      throw new TypeError('canonicalJson: bigint has no JSON form; convert it to a decimal string');
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
  }

  const object = value; // narrowed to object by the switch above
  if (ancestors.has(object)) throw new TypeError('canonicalJson: circular reference');
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    ancestors.add(object);
    try {
      return serialise((toJSON as () => unknown).call(object), ancestors);
    } finally {
      ancestors.delete(object);
    }
  }
  if (object instanceof Map || object instanceof Set) {
    throw new TypeError('canonicalJson: convert Map and Set to plain objects or arrays first');
  }

  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const items: string[] = [];
      for (let i = 0; i < object.length; i++) items.push(serialise(object[i], ancestors) ?? 'null');
      return `[${items.join(',')}]`;
    }
    const members: string[] = [];
    const record = object as Record<string, unknown>;
    // Array#sort without a comparator orders strings by UTF-16 code units, as JCS requires.
    for (const key of Object.keys(record).sort()) {
      const member = serialise(record[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}

/**
 * The object that is hashed: exactly the entry's fields other than `hash`, listed explicitly so
 * that extra properties on a row object (ORM columns added later, helper fields) never enter the
 * hash. Values are normalised to what a database round trip gives back: absent nullable fields
 * become `null`, `seq` is a canonical decimal, `id` lower case, and `occurredAt` is re-rendered by
 * `Date#toISOString()` so it does not matter whether the driver returns a `Date` or a string.
 */
function hashedPayload(entry: UnsealedAuditEntry, prevHash: string, keyVersion: number): Record<string, unknown> {
  const occurredAt = new Date(entry.occurredAt);
  if (Number.isNaN(occurredAt.getTime())) throw new TypeError(`Invalid occurredAt "${String(entry.occurredAt)}"`);
  let seq: string;
  try {
    seq = BigInt(entry.seq).toString();
  } catch {
    throw new TypeError(`Invalid seq "${String(entry.seq)}"`);
  }
  return {
    id: String(entry.id).toLowerCase(),
    seq,
    occurredAt: occurredAt.toISOString(),
    actorType: entry.actorType,
    actorId: entry.actorId ?? null,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    outcome: entry.outcome,
    ip: entry.ip ?? null,
    requestId: entry.requestId ?? null,
    details: entry.details ?? {},
    prevHash,
    // Keyed entries also cover their key version, so it cannot be swapped; unkeyed ones keep
    // exactly the payload they were written with.
    ...(keyVersion > 0 ? { keyVersion } : {}),
  };
}

/**
 * The hash an entry must carry, over `prevHash + '\n' + canonicalJson(fields)`, where the fields
 * are everything but `hash`, `prevHash` included (and `keyVersion` when keyed). Prefixing the
 * previous hash is what chains the entries: no entry can be changed, removed or reordered without
 * changing every hash after it. With `key`: hex HMAC-SHA256 under it (the entry's `keyVersion`
 * must be the key's); without: hex SHA-256 (the unkeyed scheme, keyVersion 0). Throws on a
 * malformed `prevHash`, `seq` or `occurredAt`, or on details that have no JSON form (see
 * {@link canonicalJson}).
 */
export function computeEntryHash(entry: UnsealedAuditEntry, prevHash: string, key?: ChainKey): string {
  if (!HASH_PATTERN.test(prevHash)) throw new TypeError('prevHash must be 64 lower-case hex digits');
  if (entry.prevHash !== undefined && entry.prevHash !== prevHash) {
    throw new TypeError('entry.prevHash differs from the prevHash argument');
  }
  const keyVersion = key ? key.version : 0;
  if ((entry.keyVersion ?? 0) !== keyVersion) throw new TypeError('entry.keyVersion differs from the key');
  if (key && (!Number.isSafeInteger(key.version) || key.version < 1)) {
    throw new TypeError('a chain key version is a positive integer');
  }
  const text = `${prevHash}\n${canonicalJson(hashedPayload(entry, prevHash, keyVersion))}`;
  return (key ? createHmac('sha256', key.key) : createHash('sha256')).update(text, 'utf8').digest('hex');
}

/**
 * Links an entry to the chain: sets `prevHash`, `keyVersion` and `hash`. The caller supplies the
 * hash of the current chain head, read under the same lock that serialises appends, and the
 * current chain key (omitted only by tests of the unkeyed scheme).
 */
export function sealAuditEntry(entry: UnsealedAuditEntry, prevHash: string, key?: ChainKey): AuditEntry {
  const sealed = { ...entry, keyVersion: key?.version ?? 0 };
  return { ...sealed, prevHash, hash: computeEntryHash(sealed, prevHash, key) };
}

/** Why verification stopped. */
export interface ChainFailure {
  ok: false;
  /** Entries verified intact before the bad one. */
  checked: number;
  firstBadId: string;
  firstBadSeq: string;
  /**
   * `hash_mismatch`: the entry's content no longer matches its own hash (the row was edited).
   * `broken_link`: the entry is intact but does not follow the previous one (an entry before it
   * was deleted, inserted, or edited and re-hashed).
   */
  reason: 'hash_mismatch' | 'broken_link' | 'scheme_downgrade' | 'unknown_key';
}

/** A run of consecutive entries hashed the same way. */
export interface ChainSegment {
  scheme: ChainScheme;
  /** 0 for `sha256`. */
  keyVersion: number;
  firstSeq: string;
  lastSeq: string;
  entries: number;
}

/** The outcome of verifying a chain or a range of it. */
export type ChainVerification = { ok: true; checked: number } | ChainFailure;

/**
 * Verifies a chain incrementally, so a service can stream rows page by page (ordered by `seq`)
 * without holding the whole log in memory. Once an entry fails, the verifier stays failed and
 * ignores further entries.
 *
 * Start from {@link GENESIS_HASH} for the whole log, or from the `hash` of the entry before a
 * range to verify only that range.
 */
export class ChainVerifier {
  private expectedPrevHash: string;
  private verified = 0;
  private headSeq: string | null = null;
  private failure: ChainFailure | null = null;
  private readonly runs: ChainSegment[] = [];

  /**
   * @param keys the chain keys by version; without it only unkeyed (`sha256`) entries verify
   */
  constructor(
    startPrevHash: string = GENESIS_HASH,
    private readonly keys: ChainKeyLookup = () => null,
  ) {
    this.expectedPrevHash = startPrevHash;
  }

  /** Checks the next entry; returns the failure (this one or an earlier one), or null if intact. */
  push(entry: AuditEntry): ChainFailure | null {
    if (this.failure) return this.failure;
    const keyVersion = entry.keyVersion ?? 0;
    const previous = this.runs.at(-1);
    // Keys only move forward: an unkeyed or older-key entry after a keyed one was rewritten.
    if (!Number.isSafeInteger(keyVersion) || keyVersion < 0) return this.fail(entry, 'hash_mismatch');
    if (previous && keyVersion < previous.keyVersion) return this.fail(entry, 'scheme_downgrade');
    let key: ChainKey | undefined;
    if (keyVersion > 0) {
      const material = this.keys(keyVersion);
      if (!material) return this.fail(entry, 'unknown_key');
      key = { version: keyVersion, key: material };
    }
    let recomputed: string | null;
    try {
      recomputed = computeEntryHash(entry, entry.prevHash, key);
    } catch {
      recomputed = null; // a row that cannot even be hashed has been altered
    }
    if (recomputed === null || recomputed !== entry.hash) return this.fail(entry, 'hash_mismatch');
    if (entry.prevHash !== this.expectedPrevHash) return this.fail(entry, 'broken_link');
    this.expectedPrevHash = entry.hash;
    this.headSeq = entry.seq;
    this.verified++;
    if (previous && previous.keyVersion === keyVersion) {
      previous.lastSeq = entry.seq;
      previous.entries++;
    } else {
      this.runs.push({ scheme: schemeOf(keyVersion), keyVersion, firstSeq: entry.seq, lastSeq: entry.seq, entries: 1 });
    }
    return null;
  }

  /** The runs of entries verified so far, oldest first, each with the scheme it was hashed with. */
  get segments(): ChainSegment[] {
    return this.runs.map((r) => ({ ...r }));
  }

  /** Key version of the last intact entry (0: unkeyed), null if none. */
  get lastKeyVersion(): number | null {
    return this.runs.at(-1)?.keyVersion ?? null;
  }

  /** Entries verified intact so far. */
  get checked(): number {
    return this.verified;
  }

  /** Hash of the last intact entry (the start hash if none): compare it with an external anchor. */
  get lastHash(): string {
    return this.expectedPrevHash;
  }

  /** `seq` of the last intact entry, null if none. */
  get lastSeq(): string | null {
    return this.headSeq;
  }

  /** The verdict so far. */
  result(): ChainVerification {
    return this.failure ?? { ok: true, checked: this.verified };
  }

  private fail(entry: AuditEntry, reason: ChainFailure['reason']): ChainFailure {
    this.failure = { ok: false, checked: this.verified, firstBadId: entry.id, firstBadSeq: entry.seq, reason };
    return this.failure;
  }
}

/**
 * Verifies entries ordered by `seq`, stopping at the first that was altered (`hash_mismatch`) or
 * does not follow its predecessor (`broken_link`). Iteration stops there too, so a lazy source
 * is not read further.
 */
export function verifyChain(
  entries: Iterable<AuditEntry>,
  startPrevHash: string = GENESIS_HASH,
  keys?: ChainKeyLookup,
): ChainVerification {
  const verifier = new ChainVerifier(startPrevHash, keys);
  for (const entry of entries) {
    if (verifier.push(entry)) break;
  }
  return verifier.result();
}

/** {@link verifyChain} over an async source, e.g. an async generator that reads pages of rows. */
export async function verifyChainAsync(
  entries: AsyncIterable<AuditEntry> | Iterable<AuditEntry>,
  startPrevHash: string = GENESIS_HASH,
  keys?: ChainKeyLookup,
): Promise<ChainVerification> {
  const verifier = new ChainVerifier(startPrevHash, keys);
  for await (const entry of entries) {
    if (verifier.push(entry)) break;
  }
  return verifier.result();
}

/** What replaces a secret value. */
export const REDACTED = '[redacted]';

/**
 * Keys whose values are secrets. Matching is deliberately broad (it also catches `passport`,
 * `postcode`, `statusCode`): over-redacting an audit detail costs little, leaking a credential
 * into a permanent, append-only log cannot be undone.
 */
export const SECRET_KEY_PATTERN =
  /pass(word)?|secret|token|api[-_]?key|authorization|cookie|otp|recovery|codes?$|private|credential/i;

/**
 * Values that are credentials whatever their key: a bearer header with a token-length credential
 * (so the phrase "bearer bonds" survives) and JWT-shaped strings.
 */
const SECRET_VALUE_PATTERN = /^(?:bearer\s+[\w.~+/-]{16,}=*|eyJ[\w-]*\.[\w-]+\.[\w-]*)$/i;

/**
 * A deep copy of `details` fit for the audit log: values under secret-looking keys (see
 * {@link SECRET_KEY_PATTERN}) and bearer/JWT-looking strings anywhere are replaced by
 * {@link REDACTED}, whatever their type. The copy is plain JSON data: `toJSON` is applied
 * (dates become ISO strings), errors become `{name, message}`, circular references become
 * `'[circular]'`, and keys such as `__proto__` are copied as plain data, never as prototypes.
 * The input is not modified.
 */
export function redactSecrets(details: Record<string, unknown>): Record<string, unknown> {
  const copy = redactValue(details, new Set<object>());
  return copy !== null && typeof copy === 'object' && !Array.isArray(copy) ? (copy as Record<string, unknown>) : {};
}

function redactValue(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return SECRET_VALUE_PATTERN.test(value) ? REDACTED : value;
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[circular]';
  ancestors.add(value);
  try {
    if (value instanceof Error) return { name: value.name, message: redactValue(value.message, ancestors) };
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return redactValue((toJSON as () => unknown).call(value), ancestors);
    if (Array.isArray(value)) return value.map((item: unknown) => redactValue(item, ancestors));
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      Object.defineProperty(out, key, {
        value: SECRET_KEY_PATTERN.test(key) ? REDACTED : redactValue(child, ancestors),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}
