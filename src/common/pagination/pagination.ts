import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';
import { isUnsafeText } from '../validation/input-text';

/** `?limit=&cursor=`: every list endpoint's query extends this. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50, description: 'Items per page.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page (its `nextCursor`).' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Keyset position: the sort value and the id of the last item seen (ties broken by id). */
export interface KeysetPosition {
  /** Sort value as a string (an ISO time, or a decimal sequence number). */
  k: string;
  id: string;
}

/**
 * What a list sorts on, so a cursor's sort value can be checked before it reaches SQL:
 * - `time`: an ISO 8601 instant (`created_at`, `occurred_at`);
 * - `text`: a string (a lower-cased name), at most 512 characters;
 * - `seq`: a non-negative integer of at most 19 digits (a bigint sequence);
 * - `time-seq`: `<ISO instant>|<seq>` (trades: execution time, then recording order).
 */
export type CursorKey = 'time' | 'text' | 'seq' | 'time-seq';

export const DEFAULT_PAGE_SIZE = 50;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEQ = /^\d{1,19}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

function validKey(kind: CursorKey, k: string): boolean {
  const instant = (s: string): boolean => ISO_INSTANT.test(s) && !Number.isNaN(Date.parse(s));
  switch (kind) {
    case 'time':
      return instant(k);
    case 'text':
      return k.length <= 512 && !isUnsafeText(k);
    case 'seq':
      return SEQ.test(k) && BigInt(k) <= 9_223_372_036_854_775_807n;
    case 'time-seq': {
      const bar = k.indexOf('|');
      return bar > 0 && instant(k.slice(0, bar)) && validKey('seq', k.slice(bar + 1));
    }
  }
}

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function invalidCursor(): AppException {
  return new AppException(ErrorCode.InvalidCursor, 'The cursor is not one this API returned for this list.', {
    errors: [{ field: 'cursor', message: 'cursor is not a cursor this API returned' }],
  });
}

/**
 * The one place cursors are read. Anything not made by `encodeCursor` for a list sorted on
 * `kind` (bad base64, not JSON, missing members, a sort value of the wrong type, an id that is
 * not a UUID) is a 400 `INVALID_CURSOR`, so a forged cursor never reaches SQL.
 */
export function decodeCursor(cursor: string | undefined, kind: CursorKey): KeysetPosition | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidCursor();
  const { k, id } = parsed as Partial<Record<keyof KeysetPosition, unknown>>;
  if (typeof k !== 'string' || typeof id !== 'string' || !UUID.test(id) || !validKey(kind, k)) throw invalidCursor();
  return { k, id };
}

/** The two halves of a `time-seq` sort value decoded by {@link decodeCursor}. */
export function splitTimeSeq(k: string): { at: Date; seq: string } {
  const bar = k.indexOf('|');
  return { at: new Date(k.slice(0, bar)), seq: k.slice(bar + 1) };
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only tells that there is a next page.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  position: (row: R) => KeysetPosition,
  map: (row: R) => T,
): Page<T> {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  return {
    items: items.map(map),
    nextCursor: hasMore && items.length > 0 ? encodeCursor(position(items[items.length - 1])) : null,
  };
}

/** Swagger helper: `class UserPage extends PageDto(UserDto) {}` documents `{items, nextCursor}`. */
export function PageDto<T>(item: new (...args: never[]) => T) {
  class PageOf {
    @ApiProperty({ type: [item] })
    items!: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'Pass as `cursor` to get the next page; null on the last page.',
    })
    nextCursor!: string | null;
  }
  return PageOf;
}
