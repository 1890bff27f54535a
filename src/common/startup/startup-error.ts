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
