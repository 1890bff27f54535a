import { AppException } from '../../common/errors/app.exception';
import type { ErrorCode } from '../../common/errors/error-code';
import type { AuditRecord } from '../audit/audit-record';

/**
 * A refused privilege attempt: granting a role the caller may not grant, acting on a user who
 * outranks it, or a key reaching beyond its scopes. It answers like any AppException, and carries
 * the audit entry (outcome `denied`) that the service writes once the failed transaction has
 * rolled back (see `recordDenied`).
 */
export class PrivilegeDenied extends AppException {
  constructor(
    code: ErrorCode,
    detail: string,
    readonly attempt: Omit<AuditRecord, 'outcome'>,
    extensions: Record<string, unknown> = {},
  ) {
    super(code, detail, { extensions });
    this.name = 'PrivilegeDenied';
  }
}

/** The one method of AuditService this needs. */
interface DeniedRecorder {
  recordAlone(record: AuditRecord): Promise<unknown>;
}

/**
 * Runs `work` (typically a whole transaction) and, when it throws a {@link PrivilegeDenied},
 * records the attempt with outcome `denied` in a transaction of its own before rethrowing: the
 * work's transaction has rolled back by then, and in embedded mode its connection is free again.
 */
export async function auditDenials<T>(audit: DeniedRecorder, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PrivilegeDenied) await audit.recordAlone({ ...err.attempt, outcome: 'denied' });
    throw err;
  }
}
