import { ERROR_CODES, ErrorCode } from './error-code';

export interface FieldError {
  /** Dotted path of the offending field, e.g. `trades.3.price`; empty for the body as a whole. */
  field: string;
  message: string;
}

/**
 * A domain error: services throw these, the global filter turns them into problem+json. Extra
 * members (`extensions`) are added to the body, so they must never hold secrets.
 */
export class AppException extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly options: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.name = 'AppException';
    this.status = ERROR_CODES[code].status;
  }

  static validation(
    errors: FieldError[],
    detail = 'The request is not valid; see errors for each field.',
  ): AppException {
    return new AppException(ErrorCode.ValidationFailed, detail, { errors });
  }

  static notFound(what = 'resource'): AppException {
    return new AppException(ErrorCode.NotFound, `The ${what} does not exist or you may not see it.`);
  }
}
