import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AppException } from '../errors/app.exception';

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

export const DEFAULT_PAGE_SIZE = 50;

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes a cursor; anything that was not made by `encodeCursor` is a 400 naming `cursor`. */
export function decodeCursor(cursor: string | undefined): KeysetPosition | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<KeysetPosition>;
    if (typeof parsed.k === 'string' && typeof parsed.id === 'string') return { k: parsed.k, id: parsed.id };
  } catch {
    // fall through
  }
  throw AppException.validation([{ field: 'cursor', message: 'cursor is not a cursor this API returned' }]);
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
