/**
 * Stable, machine-readable error codes: the `code` member of every problem+json body. Clients
 * branch on these, so a code is never renamed or reused; add new ones at the end of a group.
 */
export enum ErrorCode {
  // 400
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedJson = 'MALFORMED_JSON',
  BadRequest = 'BAD_REQUEST',
  WeakPassword = 'WEAK_PASSWORD',
  // Hostile input (issue 8)
  InvalidCursor = 'INVALID_CURSOR',
  // 401 / 403
  Unauthenticated = 'UNAUTHENTICATED',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  InvalidToken = 'INVALID_TOKEN',
  Forbidden = 'FORBIDDEN',
  IpBlocked = 'IP_BLOCKED',
  PasswordExpired = 'PASSWORD_EXPIRED',
  RegistrationClosed = 'REGISTRATION_CLOSED',
  RoleNotGrantable = 'ROLE_NOT_GRANTABLE',
  InvalidMfaCode = 'INVALID_MFA_CODE',
  MfaEnrolmentRequired = 'MFA_ENROLMENT_REQUIRED',
  // API keys: routes for people only (issue 8)
  SessionRequired = 'SESSION_REQUIRED',
  // 404 / 405 / 409
  NotFound = 'NOT_FOUND',
  RouteNotFound = 'ROUTE_NOT_FOUND',
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  Conflict = 'CONFLICT',
  EmailTaken = 'EMAIL_TAKEN',
  // Hostile input (issue 8)
  EmailConfusable = 'EMAIL_CONFUSABLE',
  LastSuperAdmin = 'LAST_SUPER_ADMIN',
  InsufficientPosition = 'INSUFFICIENT_POSITION',
  ExternalIdConflict = 'EXTERNAL_ID_CONFLICT',
  MfaAlreadyEnabled = 'MFA_ALREADY_ENABLED',
  // Monitoring
  AlertStateConflict = 'ALERT_STATE_CONFLICT',
  // 413 / 415 / 422 / 429
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  RateLimited = 'RATE_LIMITED',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  // 5xx
  InternalError = 'INTERNAL_ERROR',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  // Key management (security/keys)
  KeyNotGranted = 'KEY_NOT_GRANTED',
  KeyOperationNotAllowed = 'KEY_OPERATION_NOT_ALLOWED',
  KeyVersionRetired = 'KEY_VERSION_RETIRED',
  KeyVersionUnavailable = 'KEY_VERSION_UNAVAILABLE',
  DecryptionFailed = 'DECRYPTION_FAILED',
  KeyDeletionNotAllowed = 'KEY_DELETION_NOT_ALLOWED',
  MasterKeyUnavailable = 'MASTER_KEY_UNAVAILABLE',
  // Fail well: a dependency (PostgreSQL, Redis) is unavailable; retry after Retry-After
  DependencyUnavailable = 'DEPENDENCY_UNAVAILABLE',
  // Reporting
  PdfUnavailable = 'PDF_UNAVAILABLE',
  ReportNotReady = 'REPORT_NOT_READY',
  // Conditional requests and portfolio lifecycle
  PreconditionFailed = 'PRECONDITION_FAILED',
  PortfolioArchived = 'PORTFOLIO_ARCHIVED',
}

interface CodeInfo {
  status: number;
  title: string;
}

/** One entry per code: the HTTP status and the human title that goes with it. */
export const ERROR_CODES: Record<ErrorCode, CodeInfo> = {
  [ErrorCode.ValidationFailed]: { status: 400, title: 'Validation failed' },
  [ErrorCode.MalformedJson]: { status: 400, title: 'Malformed JSON body' },
  [ErrorCode.BadRequest]: { status: 400, title: 'Bad request' },
  [ErrorCode.WeakPassword]: { status: 400, title: 'Password does not meet the policy' },
  [ErrorCode.InvalidCursor]: { status: 400, title: 'Invalid cursor' },
  [ErrorCode.Unauthenticated]: { status: 401, title: 'Authentication required' },
  [ErrorCode.InvalidCredentials]: { status: 401, title: 'Invalid credentials' },
  [ErrorCode.InvalidToken]: { status: 401, title: 'Invalid or expired token' },
  [ErrorCode.Forbidden]: { status: 403, title: 'Forbidden' },
  [ErrorCode.IpBlocked]: { status: 403, title: 'Address refused' },
  [ErrorCode.PasswordExpired]: { status: 403, title: 'Password expired' },
  [ErrorCode.RegistrationClosed]: { status: 403, title: 'Registration is closed' },
  [ErrorCode.RoleNotGrantable]: { status: 403, title: 'Role not grantable' },
  [ErrorCode.InvalidMfaCode]: { status: 401, title: 'Invalid MFA code' },
  [ErrorCode.MfaEnrolmentRequired]: { status: 403, title: 'MFA enrolment required' },
  [ErrorCode.SessionRequired]: { status: 403, title: 'Signed-in session required' },
  [ErrorCode.NotFound]: { status: 404, title: 'Not found' },
  [ErrorCode.RouteNotFound]: { status: 404, title: 'No such route' },
  [ErrorCode.MethodNotAllowed]: { status: 405, title: 'Method not allowed' },
  [ErrorCode.Conflict]: { status: 409, title: 'Conflict' },
  [ErrorCode.EmailTaken]: { status: 409, title: 'Email already registered' },
  [ErrorCode.EmailConfusable]: { status: 409, title: 'Email confusable with an existing account' },
  [ErrorCode.LastSuperAdmin]: { status: 409, title: 'Last super administrator' },
  [ErrorCode.InsufficientPosition]: { status: 409, title: 'Insufficient position' },
  [ErrorCode.ExternalIdConflict]: { status: 409, title: 'External id already used' },
  [ErrorCode.MfaAlreadyEnabled]: { status: 409, title: 'MFA already enabled' },
  [ErrorCode.AlertStateConflict]: { status: 409, title: 'Alert state does not allow this' },
  [ErrorCode.PayloadTooLarge]: { status: 413, title: 'Payload too large' },
  [ErrorCode.UnsupportedMediaType]: { status: 415, title: 'Unsupported media type' },
  [ErrorCode.RateLimited]: { status: 429, title: 'Too many requests' },
  [ErrorCode.IdempotencyKeyReused]: { status: 422, title: 'Idempotency key reused' },
  [ErrorCode.InternalError]: { status: 500, title: 'Internal server error' },
  [ErrorCode.ServiceUnavailable]: { status: 503, title: 'Service unavailable' },
  [ErrorCode.KeyNotGranted]: { status: 403, title: 'No grant on this key' },
  [ErrorCode.KeyOperationNotAllowed]: { status: 403, title: 'Operation not allowed on this key' },
  [ErrorCode.KeyVersionRetired]: { status: 400, title: 'Key version retired' },
  [ErrorCode.KeyVersionUnavailable]: { status: 400, title: 'Key version unavailable' },
  [ErrorCode.DecryptionFailed]: { status: 400, title: 'Decryption failed' },
  [ErrorCode.KeyDeletionNotAllowed]: { status: 409, title: 'Key deletion not allowed' },
  [ErrorCode.MasterKeyUnavailable]: { status: 503, title: 'Master key unavailable' },
  [ErrorCode.DependencyUnavailable]: { status: 503, title: 'Dependency unavailable' },
  [ErrorCode.PreconditionFailed]: { status: 412, title: 'Precondition failed' },
  [ErrorCode.PortfolioArchived]: { status: 409, title: 'Portfolio archived' },
  [ErrorCode.PdfUnavailable]: { status: 503, title: 'PDF rendering unavailable' },
  [ErrorCode.ReportNotReady]: { status: 409, title: 'Report not ready' },
};

/** `VALIDATION_FAILED` → `urn:bastion:problem:validation-failed` (RFC 9457 `type`). */
export function problemType(code: string): string {
  return `urn:bastion:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}
