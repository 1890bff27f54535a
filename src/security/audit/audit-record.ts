import type { Actor, RequestContext } from '../../common/http/request-context';
import { redactSecrets, type AuditOutcome, type UnsealedAuditEntry } from './audit-chain';

/** What a caller asks `AuditService` to record. */
export interface AuditRecord {
  /** What happened, dotted and past-tense by convention: `auth.login`, `user.roles.changed`. */
  action: string;
  targetType?: string;
  targetId?: string;
  /** Default `success`. */
  outcome?: AuditOutcome;
  /** Action-specific facts; secrets are redacted before storage (see `redactSecrets`). */
  details?: Record<string, unknown>;
  /** Default: the current request's actor, else `{type: 'system', id: 'bastion'}`. */
  actor?: Actor;
  /** Default: the current request's client address. */
  ip?: string;
}

/** The actor of work that no caller started: start-up, scheduled jobs. */
export const SYSTEM_ACTOR: Actor = Object.freeze({ type: 'system', id: 'bastion' });

/** What the chain position decides; filled in under the head lock. */
export interface ChainSlot {
  id: string;
  seq: string;
  occurredAt: Date;
}

/**
 * The entry to seal for `record`, with defaults taken from the request context. Pure: the caller
 * supplies the id, the chain position and the time.
 */
export function toUnsealedEntry(
  record: AuditRecord,
  context: RequestContext | undefined,
  slot: ChainSlot,
): UnsealedAuditEntry {
  const actor = record.actor ?? context?.actor ?? SYSTEM_ACTOR;
  return {
    id: slot.id,
    seq: slot.seq,
    occurredAt: truncateToMillis(slot.occurredAt).toISOString(),
    actorType: actor.type,
    actorId: optionalText(actor.id),
    action: text(record.action),
    targetType: optionalText(record.targetType),
    targetId: optionalText(record.targetId),
    outcome: record.outcome ?? 'success',
    ip: optionalText(record.ip ?? context?.ip),
    requestId: optionalText(context?.requestId),
    details: auditDetails(record.details ?? {}),
  };
}

/**
 * Details as they will be stored and read back: secrets redacted, then reduced to what survives a
 * trip through `jsonb` unchanged, so the hash computed now is the hash verification recomputes.
 * Bigints become decimal strings, non-finite numbers `null` (as `JSON.stringify` does), functions
 * and symbols disappear, and NUL characters (which `jsonb` refuses) become U+FFFD.
 */
export function auditDetails(details: Record<string, unknown>): Record<string, unknown> {
  const safe = jsonSafe(redactSecrets(details));
  return safe !== null && typeof safe === 'object' && !Array.isArray(safe) ? (safe as Record<string, unknown>) : {};
}

function jsonSafe(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return text(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) return value.map((item) => jsonSafe(item) ?? null);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const safe = jsonSafe(child);
    if (safe === undefined) continue;
    Object.defineProperty(out, text(key), { value: safe, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** PostgreSQL text and jsonb cannot hold NUL. */
function text(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

function optionalText(value: string | undefined | null): string | null {
  return value === undefined || value === null ? null : text(value);
}

/** `timestamptz` keeps microseconds and a JS Date milliseconds: store only what both can say. */
function truncateToMillis(date: Date): Date {
  return new Date(Math.trunc(date.getTime()));
}
