/**
 * A start-up failure an operator can act on: what failed, which setting or path, what to do.
 * main.ts prints it as one line on stderr and one JSON log entry, with no stack trace.
 */
export class StartupError extends Error {
  constructor(
    /** What failed, e.g. `cannot write to the data directory /var/lib/bastion`. */
    readonly what: string,
    /** The setting or path involved, e.g. `DATA_DIR`. */
    readonly setting: string,
    /** What to do about it. */
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(`${what} (${setting}): ${hint}`, options);
    this.name = 'StartupError';
  }
}

const FS_REASONS: Record<string, { reason: string; hint: string }> = {
  ENOSPC: { reason: 'the disk is full', hint: 'free space on that filesystem or point DATA_DIR at a larger one' },
  EDQUOT: { reason: 'the disk quota is exhausted', hint: 'raise the quota or point DATA_DIR elsewhere' },
  EROFS: {
    reason: 'it is on a read-only filesystem',
    hint: 'mount it read-write or point DATA_DIR at a writable directory',
  },
  EACCES: {
    reason: 'permission denied',
    hint: 'give the user running Bastion write access to it, or point DATA_DIR elsewhere',
  },
  EPERM: {
    reason: 'permission denied',
    hint: 'give the user running Bastion write access to it, or point DATA_DIR elsewhere',
  },
  ENOTDIR: {
    reason: 'it (or a parent) is a file, not a directory',
    hint: 'point DATA_DIR at a directory',
  },
  EEXIST: { reason: 'a file is in the way', hint: 'point DATA_DIR at a directory' },
};

/** A file-system error met while using DATA_DIR, as a StartupError (or undefined if not one we know). */
export function dataDirFailure(err: unknown, dataDir: string, action: string): StartupError | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  const known = typeof code === 'string' ? FS_REASONS[code] : undefined;
  if (!known) return undefined;
  return new StartupError(
    `cannot ${action} in the data directory ${dataDir}: ${known.reason}`,
    'DATA_DIR',
    known.hint,
    {
      cause: err,
    },
  );
}

/** SQLSTATEs an operator can act on at start-up (migrations, first writes), with what to do. */
const DATABASE_REASONS: Record<string, { reason: string; hint: string }> = {
  '42501': {
    reason: 'its user lacks a privilege',
    hint: 'connect as the owner of the database, or grant its user CREATE on the database and on schema public',
  },
  '3F000': {
    reason: 'its user may not create tables in any schema',
    hint: 'connect as the owner of the database, or grant its user CREATE on the database and on schema public',
  },
  '25006': {
    reason: 'it is read-only (a standby?)',
    hint: 'point DATABASE_URL at the primary server',
  },
  '53100': { reason: "the database server's disk is full", hint: 'free space on the database server' },
  '53300': {
    reason: 'it has no connection slot left',
    hint: 'lower DATABASE_POOL_SIZE on the instances, or raise max_connections on the server',
  },
  '57P03': {
    reason: 'it is starting up or shutting down',
    hint: 'start Bastion again once PostgreSQL accepts connections',
  },
};

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * An error that start-up met in a statement (a migration, the first administrator, the audit
 * chain, the internal keys) as a StartupError naming DATABASE_URL; undefined if not a database
 * error. Connection failures are told earlier, by the database runtime.
 */
export function databaseFailure(err: unknown): StartupError | undefined {
  const driver = ((err as { driverError?: unknown } | undefined)?.driverError ?? err) as
    { code?: unknown; severity?: unknown; message?: unknown } | undefined;
  const code = driver?.code;
  if (typeof code !== 'string' || !SQLSTATE.test(code) || typeof driver?.severity !== 'string') return undefined;
  const message = (typeof driver.message === 'string' ? driver.message : '').split('\n')[0];
  const known = DATABASE_REASONS[code];
  return new StartupError(
    known
      ? `the database refused a start-up statement: ${known.reason} (${message}, SQLSTATE ${code})`
      : `the database refused a start-up statement: ${message} (SQLSTATE ${code})`,
    'DATABASE_URL',
    known?.hint ??
      "check that DATABASE_URL names a database of Bastion's own, owned by its user; the JSON log entry has the details",
    { cause: err },
  );
}

/**
 * Nest's own start-up errors (a provider it cannot resolve, a module it cannot load) as a
 * StartupError: the first sentence of Nest's multi-line message, and that this is a defect of the
 * build rather than of its settings. Undefined for other errors.
 */
export function assemblyFailure(err: unknown): StartupError | undefined {
  if (
    !(err instanceof Error) ||
    !/^(Unknown|Undefined|Invalid|Circular)\w*(Exception|Error)$/.test(err.constructor.name)
  )
    return undefined;
  if (!/@nestjs[\\/]core/.test(err.stack ?? '')) return undefined;
  const first = err.message
    .trim()
    .split('\n')[0]
    .split(/(?<=\.)\s/)[0];
  return new StartupError(
    `the application could not be assembled: ${first}`,
    'this build',
    'a defect of this build, not of its settings: report it with the JSON log entry',
    { cause: err },
  );
}
