import { randomBytes, createPublicKey } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { DEFAULT_PAGE_SIZE, decodeCursor, type Page, toPage } from '../../common/pagination/pagination';
import { AuditService } from '../audit/audit.service';
import { SYSTEM_ACTOR } from '../audit/audit-record';
import type { Principal } from '../auth/principal';
import { EncryptionService } from '../crypto/encryption.service';
import { ROLES } from '../rbac/roles';
import { KeyMaterialService } from './key-material.service';
import {
  formatVersioned,
  type KeyOperation,
  KeyOperationError,
  type KeyType,
  type KeyVersionHandle,
  parseVersioned,
  TYPE_OPERATIONS,
  isAsymmetric,
} from './key-primitives';
import { KeyUsageService } from './key-usage.service';
import { type KeyConfigPatch, type KeyGrant, type KeyRow, type KeyVersionRow, KeysRepository } from './keys.repository';

export interface CreateKeyInput {
  name: string;
  type: KeyType;
  description?: string;
  deletionAllowed?: boolean;
  exportable?: boolean;
  autoRotatePeriodSeconds?: number | null;
  allowedOperations?: KeyOperation[];
  grants?: KeyGrant[];
}

export type UpdateKeyInput = KeyConfigPatch & { grants?: KeyGrant[] };

export interface KeyDetail {
  key: KeyRow;
  versions: KeyVersionRow[];
  grants: KeyGrant[];
  /** For internal keys: envelopes per version still stored (`legacy`: written before key management). */
  protectedData: Record<string, number> | null;
}

export interface PublicKeyExport {
  version: number;
  pem: string;
  jwk: Record<string, unknown>;
}

/** One item of an operation; fields are base64 where they carry bytes. */
export interface OperationItem {
  plaintext?: string;
  ciphertext?: string;
  context?: string;
  input?: string;
  signature?: string;
  hmac?: string;
  prehashed?: boolean;
  keyVersion?: number;
  /** datakey: also return the plaintext key. */
  withPlaintext?: boolean;
  /** datakey: 128 or 256 (default). */
  bits?: number;
}

export interface OperationResult {
  ciphertext?: string;
  plaintext?: string;
  signature?: string;
  hmac?: string;
  valid?: boolean;
  keyVersion?: number;
}

export interface OperationError {
  code: ErrorCode;
  message: string;
}

export type OperationOutcome = { ok: true; result: OperationResult } | { ok: false; error: OperationError };

const JWK_ALG: Partial<Record<KeyType, string>> = {
  'rsa-3072': 'PS256',
  'rsa-4096': 'PS256',
  'ecdsa-p256': 'ES256',
  ed25519: 'EdDSA',
};

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Raised per item; becomes a problem (single) or the item's error (batch). */
class ItemError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function b64(value: string | undefined, field: string, required = true): Buffer | undefined {
  if (value === undefined || value === '') {
    if (required && value === undefined) throw new ItemError(ErrorCode.BadRequest, `${field} is required`);
    return value === '' ? Buffer.alloc(0) : undefined;
  }
  if (value.length % 4 !== 0 || !BASE64.test(value))
    throw new ItemError(ErrorCode.BadRequest, `${field} is not base64`);
  return Buffer.from(value, 'base64');
}

function fromKeyOperationError(err: KeyOperationError): ItemError {
  const code = {
    malformed: ErrorCode.BadRequest,
    too_large: ErrorCode.BadRequest,
    unsupported: ErrorCode.BadRequest,
    decryption_failed: ErrorCode.DecryptionFailed,
    version_unavailable: ErrorCode.KeyVersionUnavailable,
    version_retired: ErrorCode.KeyVersionRetired,
  }[err.code];
  return new ItemError(code, err.message);
}

/**
 * Named keys in the model of Vault's transit engine: management (create, configure, rotate,
 * delete, export public keys) and the operations (encrypt, decrypt, rewrap, datakey, sign,
 * verify, hmac), each on one item or a batch. Use is governed by the key's allowed operations and
 * its grants to roles or groups, on top of the `keys:use` permission the route requires.
 */
@Injectable()
export class KeysService {
  private readonly logger = new Logger(KeysService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: KeysRepository,
    private readonly material: KeyMaterialService,
    private readonly encryption: EncryptionService,
    private readonly usage: KeyUsageService,
    private readonly audit: AuditService,
  ) {}

  // ---- management ---------------------------------------------------------------------------

  async create(principal: Principal, input: CreateKeyInput): Promise<KeyDetail> {
    const allowed = input.allowedOperations ?? [...TYPE_OPERATIONS[input.type]];
    this.assertOperations(input.type, allowed);
    if (input.exportable && !isAsymmetric(input.type)) {
      throw AppException.validation([
        { field: 'exportable', message: 'only asymmetric keys have a public key to export' },
      ]);
    }
    const grants = await this.checkGrants(input.grants ?? []);
    const key = await this.dataSource.transaction(async (manager) => {
      if (await this.repository.findByName(input.name, manager)) {
        throw new AppException(ErrorCode.Conflict, `A key named "${input.name}" already exists.`);
      }
      const created = await this.repository.insertKey(manager, {
        name: input.name,
        type: input.type,
        internal: false,
        description: input.description ?? '',
        deletionAllowed: input.deletionAllowed ?? false,
        exportable: input.exportable ?? false,
        autoRotatePeriodSeconds: input.autoRotatePeriodSeconds ?? null,
        allowedOperations: allowed,
        createdBy: principal.userId,
      });
      await this.material.addVersion(manager, created, 1);
      await this.repository.replaceGrants(manager, created.id, grants);
      await this.audit.record(manager, {
        action: 'key.created',
        targetType: 'key',
        targetId: created.id,
        details: { name: created.name, type: created.type, allowedOperations: allowed, grants },
      });
      return created;
    });
    return this.get(key.name);
  }

  async list(query: { limit?: number; cursor?: string }): Promise<Page<KeyRow>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.list(limit, decodeCursor(query.cursor, 'text'));
    return toPage(
      rows,
      limit,
      (r) => ({ k: r.name, id: r.id }),
      (r) => r,
    );
  }

  async get(name: string): Promise<KeyDetail> {
    const key = await this.requireKey(name);
    const [versions, grants, protectedData] = await Promise.all([
      this.repository.versions(key.id),
      this.repository.grants(key.id),
      key.internal ? this.encryption.usageOf(key.name) : Promise.resolve(null),
    ]);
    return { key, versions, grants, protectedData };
  }

  async update(name: string, input: UpdateKeyInput): Promise<KeyDetail> {
    const { grants: grantInput, ...patch } = input;
    const grants = grantInput ? await this.checkGrants(grantInput) : undefined;
    const key = await this.dataSource.transaction(async (manager) => {
      const key = await this.repository.lockByName(manager, name);
      if (!key) throw AppException.notFound('key');
      if (patch.allowedOperations) this.assertOperations(key.type, patch.allowedOperations);
      if (patch.exportable && !isAsymmetric(key.type)) {
        throw AppException.validation([
          { field: 'exportable', message: 'only asymmetric keys have a public key to export' },
        ]);
      }
      const minDec = patch.minDecryptionVersion ?? key.minDecryptionVersion;
      const minEnc = patch.minEncryptionVersion ?? key.minEncryptionVersion;
      if (minDec > key.latestVersion || minEnc > key.latestVersion) {
        throw AppException.validation([
          {
            field: minDec > key.latestVersion ? 'minDecryptionVersion' : 'minEncryptionVersion',
            message: `the key's latest version is ${key.latestVersion}`,
          },
        ]);
      }
      if (minDec < key.minDecryptionVersion && key.minDecryptionVersion > 1) {
        // Lowering is allowed (the versions are kept): Vault allows it too, as a way back from a mistake.
      }
      if (key.internal) {
        if (patch.allowedOperations || patch.deletionAllowed || patch.exportable) {
          throw new AppException(
            ErrorCode.KeyOperationNotAllowed,
            'Only versions and rotation can be configured on an internal key.',
          );
        }
        if (minDec > key.minDecryptionVersion) {
          const usage = (await this.encryption.usageOf(key.name, manager)) ?? {};
          const stillUsed = Object.entries(usage).filter(([v, n]) => n > 0 && (v === 'legacy' || Number(v) < minDec));
          if (stillUsed.length > 0) {
            throw new AppException(
              ErrorCode.Conflict,
              `Versions below ${minDec} still protect stored data (${stillUsed.map(([v, n]) => `${v}: ${n}`).join(', ')}); they are rewrapped as they are used.`,
              { extensions: { protectedData: usage } },
            );
          }
        }
      }
      const updated = Object.keys(patch).length > 0 ? await this.repository.updateConfig(manager, key.id, patch) : key;
      if (grants) await this.repository.replaceGrants(manager, key.id, grants);
      await this.audit.record(manager, {
        action: 'key.updated',
        targetType: 'key',
        targetId: key.id,
        details: { name: key.name, changes: { ...patch, ...(grants ? { grants } : {}) } },
      });
      return updated;
    });
    if (key.internal) await this.encryption.reload();
    return this.get(key.name);
  }

  async rotate(name: string): Promise<KeyDetail> {
    const key = await this.dataSource.transaction(async (manager) => {
      const key = await this.repository.lockByName(manager, name);
      if (!key) throw AppException.notFound('key');
      return this.rotateLocked(manager, key, 'manual');
    });
    if (key.internal) await this.encryption.reload();
    return this.get(key.name);
  }

  /** Rotates every key whose automatic rotation is due; once across instances (rows locked, SKIP LOCKED). */
  async rotateDue(now = new Date()): Promise<string[]> {
    const rotated = await this.dataSource.transaction(async (manager) => {
      if (!(await this.repository.tryLockAutoRotation(manager))) return [];
      const due = await this.repository.lockDueForRotation(manager, now);
      const done: KeyRow[] = [];
      for (const key of due) done.push(await this.rotateLocked(manager, key, 'automatic'));
      return done;
    });
    if (rotated.some((k) => k.internal)) await this.encryption.reload();
    if (rotated.length > 0) this.logger.log(`rotated ${rotated.map((k) => k.name).join(', ')} (automatic rotation)`);
    return rotated.map((k) => k.name);
  }

  async remove(name: string): Promise<void> {
    const key = await this.dataSource.transaction(async (manager) => {
      const key = await this.repository.lockByName(manager, name);
      if (!key) throw AppException.notFound('key');
      if (key.internal || !key.deletionAllowed) {
        throw new AppException(
          ErrorCode.KeyDeletionNotAllowed,
          key.internal
            ? 'Internal keys cannot be deleted.'
            : 'Deletion is not allowed on this key: set deletionAllowed first. Everything it encrypted becomes unreadable.',
        );
      }
      await this.repository.deleteKey(manager, key.id);
      await this.audit.record(manager, {
        action: 'key.deleted',
        targetType: 'key',
        targetId: key.id,
        details: { name: key.name, type: key.type, versions: key.latestVersion },
      });
      return key;
    });
    this.material.forget(key.id);
  }

  /** The public keys of an exportable asymmetric key, every version still usable (or one). */
  async exportPublic(name: string, version?: number): Promise<{ key: KeyRow; keys: PublicKeyExport[] }> {
    const key = await this.requireKey(name);
    if (!isAsymmetric(key.type) || !key.exportable) {
      throw new AppException(
        ErrorCode.KeyOperationNotAllowed,
        isAsymmetric(key.type)
          ? 'This key is not exportable: set exportable first.'
          : 'Only asymmetric keys have a public key to export.',
      );
    }
    const rows = (await this.repository.versions(key.id)).filter(
      (v) => v.version >= key.minDecryptionVersion && (version === undefined || v.version === version),
    );
    if (version !== undefined && rows.length === 0) {
      throw new AppException(
        ErrorCode.KeyVersionUnavailable,
        `Version ${version} of this key does not exist or is retired.`,
      );
    }
    await this.dataSource.transaction((manager) =>
      this.audit.record(manager, {
        action: 'key.public_exported',
        targetType: 'key',
        targetId: key.id,
        details: { name: key.name, versions: rows.map((r) => r.version) },
      }),
    );
    return {
      key,
      keys: rows.map((row) => {
        const jwk = createPublicKey(row.publicKeyPem!).export({ format: 'jwk' }) as Record<string, unknown>;
        return {
          version: row.version,
          pem: row.publicKeyPem!,
          jwk: { ...jwk, kid: `${key.name}:v${row.version}`, alg: JWK_ALG[key.type], use: 'sig' },
        };
      }),
    };
  }

  // ---- operations ---------------------------------------------------------------------------

  /**
   * Runs `operation` on each item. Authorization failures (no grant, operation not allowed, key
   * unknown) refuse the whole request; failures of one item are that item's error.
   */
  async operate(
    principal: Principal,
    name: string,
    operation: KeyOperation,
    items: OperationItem[],
  ): Promise<OperationOutcome[]> {
    const found = await this.repository.findForUse(name, principal.roles, principal.userId);
    if (!found) throw AppException.notFound('key');
    const { key, granted } = found;
    if (key.internal) {
      throw new AppException(ErrorCode.KeyOperationNotAllowed, 'Internal keys are used by Bastion only.');
    }
    if (!granted) {
      throw new AppException(
        ErrorCode.KeyNotGranted,
        'You hold keys:use but no grant on this key: a key manager must grant it to one of your roles or groups.',
      );
    }
    if (!key.allowedOperations.includes(operation)) {
      throw new AppException(
        ErrorCode.KeyOperationNotAllowed,
        `The operation "${operation}" is not allowed on this key.`,
        {
          extensions: { allowedOperations: key.allowedOperations },
        },
      );
    }
    const handles = await this.handlesOf(key);
    const counts = new Map<string, number>();
    const outcomes = items.map((item): OperationOutcome => {
      try {
        const { result, uses } = this.runOne(key, handles, operation, item);
        for (const [version, op] of uses) {
          const id = `${version}\u0000${op}`;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        return { ok: true, result };
      } catch (err) {
        const e = err instanceof KeyOperationError ? fromKeyOperationError(err) : err;
        if (e instanceof ItemError) return { ok: false, error: { code: e.code, message: e.message } };
        throw err;
      }
    });
    for (const [id, n] of counts) {
      const [version, op] = id.split('\u0000');
      this.usage.count(key.name, Number(version), op, n);
    }
    return outcomes;
  }

  /** `operate` on one item: its error becomes the problem of the request. */
  async operateOne(
    principal: Principal,
    name: string,
    operation: KeyOperation,
    item: OperationItem,
  ): Promise<OperationResult> {
    const [outcome] = await this.operate(principal, name, operation, [item]);
    if (!outcome.ok) throw new AppException(outcome.error.code, outcome.error.message);
    return outcome.result;
  }

  private runOne(
    key: KeyRow,
    handles: Map<number, KeyVersionHandle>,
    operation: KeyOperation,
    item: OperationItem,
  ): { result: OperationResult; uses: [number, string][] } {
    const forWriting = (): KeyVersionHandle => {
      const version = item.keyVersion ?? key.latestVersion;
      if (version > key.latestVersion || !handles.has(version)) {
        throw new ItemError(ErrorCode.KeyVersionUnavailable, `version ${version} of this key does not exist`);
      }
      if (version < key.minEncryptionVersion || version < key.minDecryptionVersion) {
        throw new ItemError(
          ErrorCode.KeyVersionRetired,
          `version ${version} is below the key's minimum version for new data (${Math.max(key.minEncryptionVersion, key.minDecryptionVersion)})`,
        );
      }
      return handles.get(version)!;
    };
    const forReading = (value: string | undefined, what: string): { handle: KeyVersionHandle; bytes: Buffer } => {
      if (value === undefined) throw new ItemError(ErrorCode.BadRequest, `${what} is required`);
      const parsed = parseVersioned(value, what);
      if (parsed.version < key.minDecryptionVersion) {
        throw new ItemError(
          ErrorCode.KeyVersionRetired,
          `this ${what} is of key version ${parsed.version}, below the key's minDecryptionVersion (${key.minDecryptionVersion}); rewrap data before retiring versions`,
        );
      }
      const handle = handles.get(parsed.version);
      if (!handle) throw new ItemError(ErrorCode.KeyVersionUnavailable, `key version ${parsed.version} does not exist`);
      return { handle, bytes: parsed.bytes };
    };
    const context = b64(item.context, 'context', false);

    switch (operation) {
      case 'encrypt': {
        const plaintext = b64(item.plaintext, 'plaintext')!;
        const h = forWriting();
        return {
          result: { ciphertext: formatVersioned(h.version, h.encrypt(plaintext, context)), keyVersion: h.version },
          uses: [[h.version, 'encrypt']],
        };
      }
      case 'decrypt': {
        const { handle, bytes } = forReading(item.ciphertext, 'ciphertext');
        return {
          result: { plaintext: handle.decrypt(bytes, context).toString('base64') },
          uses: [[handle.version, 'decrypt']],
        };
      }
      case 'rewrap': {
        const { handle, bytes } = forReading(item.ciphertext, 'ciphertext');
        const plaintext = handle.decrypt(bytes, context);
        const h = forWriting();
        const ciphertext = formatVersioned(h.version, h.encrypt(plaintext, context));
        plaintext.fill(0);
        return {
          result: { ciphertext, keyVersion: h.version },
          uses: [
            [handle.version, 'decrypt'],
            [h.version, 'rewrap'],
          ],
        };
      }
      case 'datakey': {
        const bits = item.bits ?? 256;
        const plaintext = randomBytes(bits / 8);
        const h = forWriting();
        const ciphertext = formatVersioned(h.version, h.encrypt(plaintext, context));
        const result: OperationResult = { ciphertext, keyVersion: h.version };
        if (item.withPlaintext) result.plaintext = plaintext.toString('base64');
        plaintext.fill(0);
        return { result, uses: [[h.version, 'datakey']] };
      }
      case 'sign': {
        const input = b64(item.input, 'input')!;
        const h = forWriting();
        return {
          result: {
            signature: formatVersioned(h.version, h.sign(input, item.prehashed ?? false)),
            keyVersion: h.version,
          },
          uses: [[h.version, 'sign']],
        };
      }
      case 'verify': {
        const input = b64(item.input, 'input')!;
        const { handle, bytes } = forReading(item.signature, 'signature');
        return {
          result: { valid: handle.verify(input, bytes, item.prehashed ?? false) },
          uses: [[handle.version, 'verify']],
        };
      }
      case 'hmac': {
        const input = b64(item.input, 'input')!;
        const h = forWriting();
        return {
          result: { hmac: formatVersioned(h.version, h.hmac(input)), keyVersion: h.version },
          uses: [[h.version, 'hmac']],
        };
      }
      case 'verify-hmac': {
        const input = b64(item.input, 'input')!;
        const { handle, bytes } = forReading(item.hmac, 'hmac');
        return { result: { valid: handle.verifyHmac(input, bytes) }, uses: [[handle.version, 'verify-hmac']] };
      }
    }
  }

  /** Usable handles of every version at or above minDecryptionVersion (unwrapped once per process). */
  private async handlesOf(key: KeyRow): Promise<Map<number, KeyVersionHandle>> {
    const handles = new Map<number, KeyVersionHandle>();
    let missing = false;
    for (let v = key.minDecryptionVersion; v <= key.latestVersion; v++) {
      const h = this.material.cached(key.id, v);
      if (h) handles.set(v, h);
      else missing = true;
    }
    if (missing) {
      for (const row of await this.repository.versions(key.id)) {
        if (row.version >= key.minDecryptionVersion && !handles.has(row.version)) {
          handles.set(row.version, this.material.handle(key, row));
        }
      }
    }
    return handles;
  }

  private async rotateLocked(
    manager: Parameters<KeyMaterialService['addVersion']>[0],
    key: KeyRow,
    how: 'manual' | 'automatic',
  ): Promise<KeyRow> {
    const version = key.latestVersion + 1;
    await this.material.addVersion(manager, key, version);
    const rotated = await this.repository.setLatestVersion(manager, key.id, version);
    await this.audit.record(manager, {
      action: 'key.rotated',
      targetType: 'key',
      targetId: key.id,
      details: { name: key.name, version, how },
      ...(how === 'automatic' ? { actor: SYSTEM_ACTOR } : {}),
    });
    return rotated;
  }

  private async requireKey(name: string): Promise<KeyRow> {
    const key = await this.repository.findByName(name);
    if (!key) throw AppException.notFound('key');
    return key;
  }

  private assertOperations(type: KeyType, operations: readonly KeyOperation[]): void {
    const bad = operations.filter((op) => !TYPE_OPERATIONS[type].includes(op));
    if (bad.length > 0) {
      throw AppException.validation([
        {
          field: 'allowedOperations',
          message: `a ${type} key cannot ${bad.join(', ')} (it can: ${TYPE_OPERATIONS[type].join(', ')})`,
        },
      ]);
    }
  }

  private async checkGrants(grants: readonly KeyGrant[]): Promise<KeyGrant[]> {
    const unique = [...new Map(grants.map((g) => [`${g.subjectType}:${g.subject}`, g])).values()];
    const badRoles = unique.filter(
      (g) => g.subjectType === 'role' && !(ROLES as readonly string[]).includes(g.subject),
    );
    const groupIds = unique.filter((g) => g.subjectType === 'group').map((g) => g.subject);
    const existing = new Set(
      await this.repository.existingGroups(
        groupIds.filter((id) => /^[0-9a-f-]{36}$/i.test(id)).map((id) => id.toLowerCase()),
      ),
    );
    const badGroups = groupIds.filter((id) => !existing.has(id.toLowerCase()));
    if (badRoles.length > 0 || badGroups.length > 0) {
      throw AppException.validation([
        ...badRoles.map((g) => ({ field: 'grants', message: `unknown role "${g.subject}"` })),
        ...badGroups.map((id) => ({ field: 'grants', message: `unknown group ${id}` })),
      ]);
    }
    return unique.map((g) => (g.subjectType === 'group' ? { ...g, subject: g.subject.toLowerCase() } : g));
  }
}
