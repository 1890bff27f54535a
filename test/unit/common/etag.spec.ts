import { AppException } from '../../../src/common/errors/app.exception';
import { ErrorCode } from '../../../src/common/errors/error-code';
import { assertIfMatch, entityTag } from '../../../src/common/http/etag';

describe('entity tags', () => {
  const current = entityTag({ id: 'a', name: 'Book', updatedAt: '2026-12-02T10:00:00.000Z' });

  const codeOf = (ifMatch: string): ErrorCode | undefined => {
    try {
      assertIfMatch(ifMatch, current);
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(AppException);
      return (error as AppException).code;
    }
  };

  it('is strong, quoted, and changes with the representation', () => {
    expect(current).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(entityTag({ id: 'a', name: 'Book', updatedAt: '2026-12-02T10:00:00.000Z' })).toBe(current);
    expect(entityTag({ id: 'a', name: 'Book2', updatedAt: '2026-12-02T10:00:00.000Z' })).not.toBe(current);
  });

  it('passes without If-Match, with *, with the current tag alone or in a list', () => {
    expect(() => assertIfMatch(undefined, current)).not.toThrow();
    expect(codeOf('*')).toBeUndefined();
    expect(codeOf(current)).toBeUndefined();
    expect(codeOf(`"other", ${current}`)).toBeUndefined();
  });

  it('refuses a stale tag and a weak form of the current one with 412', () => {
    expect(codeOf('"stale"')).toBe(ErrorCode.PreconditionFailed);
    expect(codeOf(`W/${current}`)).toBe(ErrorCode.PreconditionFailed);
    expect(new AppException(ErrorCode.PreconditionFailed, 'x').status).toBe(412);
  });

  it('refuses a malformed header with 400 naming If-Match', () => {
    for (const bad of ['stale', '"unterminated', '"a" "b"', '*, "a"', '']) {
      expect(codeOf(bad)).toBe(ErrorCode.ValidationFailed);
    }
  });
});
