/**
 * Text no request may carry: NUL (PostgreSQL refuses it in text, so it would surface as a 500)
 * and UTF-16 surrogates that are not part of a pair (not Unicode text at all: they cannot be
 * encoded as UTF-8, stored, compared or logged faithfully).
 */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSAFE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Nesting allowed in a JSON body (objects and arrays); deeper bodies are refused with 400. */
export const MAX_JSON_DEPTH = 32;

export function isUnsafeText(value: string): boolean {
  return UNSAFE_TEXT.test(value);
}

export type InputProblem = { field: string; message: string };

/**
 * The first problem in a parsed JSON value or query object: a string (value or key) with a NUL
 * byte or an unpaired surrogate, or nesting deeper than `maxDepth`. Iterative, so a hostile body
 * cannot exhaust the stack; `prefix` names the root in the field path (`''` for a body).
 */
export function findInputProblem(root: unknown, maxDepth = MAX_JSON_DEPTH, prefix = ''): InputProblem | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: prefix, depth: 0 }];
  const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (isUnsafeText(value)) {
        return { field: path || '(body)', message: 'must not contain NUL characters or unpaired surrogates' };
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= maxDepth) {
      return { field: path || '(body)', message: `is nested deeper than ${maxDepth} levels` };
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], path: join(path, String(i)), depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(value)) {
      if (isUnsafeText(key)) {
        return { field: path || '(body)', message: 'has a key with NUL characters or unpaired surrogates' };
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: join(path, key), depth: depth + 1 });
    }
  }
  return undefined;
}
