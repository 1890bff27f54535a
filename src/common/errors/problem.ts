import { ERROR_CODES, ErrorCode, problemType } from './error-code';
import type { FieldError } from './app.exception';

/** An RFC 9457 problem details body, with Bastion's extension members. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  requestId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problem(
  code: ErrorCode,
  detail: string,
  extra: { requestId?: string; instance?: string; errors?: FieldError[]; extensions?: Record<string, unknown> } = {},
): Problem {
  const { status, title } = ERROR_CODES[code];
  return {
    ...extra.extensions,
    type: problemType(code),
    title,
    status,
    detail,
    ...(extra.instance ? { instance: extra.instance } : {}),
    code,
    ...(extra.requestId ? { requestId: extra.requestId } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
}
