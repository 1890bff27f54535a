/**
 * The rows of an `UPDATE … RETURNING` or `DELETE … RETURNING` through TypeORM's `query()`: on
 * PostgreSQL it answers `[rows, affected]`, for other statements the rows alone. Either way, the rows.
 */
export function returned<T>(result: T[] | [T[], number]): T[] {
  return Array.isArray(result[0]) ? result[0] : (result as T[]);
}
