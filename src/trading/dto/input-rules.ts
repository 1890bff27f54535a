/**
 * The rules for trading inputs, shared by the DTO decorators (single items, through the global
 * ValidationPipe) and the bulk validators (bulk-input.validator.ts), so both say the same thing.
 */

/**
 * numeric(20,8): up to 12 digits before the point and 8 after, no sign, no exponent. Sent as a JSON
 * string ("1234.5"), never a number: a JSON number has already been through a binary float.
 */
export const DECIMAL_20_8 = /^\d{1,12}(\.\d{1,8})?$/;
/** The same, greater than zero. */
export const POSITIVE_DECIMAL_20_8 = /^(?!0+(\.0+)?$)\d{1,12}(\.\d{1,8})?$/;

/** ISO 8601 with a time zone and at most millisecond precision, e.g. 2026-03-02T14:30:00.125Z. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Instrument symbols: upper-case letters and digits, then also `. - : / _`; up to 32 characters. */
export const SYMBOL = /^[A-Z0-9][A-Z0-9.:/_-]{0,31}$/;

/** The sender's trade id: printable ASCII without spaces, up to 128 characters. */
export const EXTERNAL_ID = /^[!-~]{1,128}$/;

export const ISO8601_OPTIONS = { strict: true } as const;

export const MESSAGES = {
  string: (p: string) => `${p} must be a string`,
  object: (p: string) => `${p} must be an object`,
  symbol: (p: string) => `${p} must be 1-32 of A-Z, 0-9 and . - : / _, starting with a letter or digit`,
  decimal: (p: string, positive: boolean) =>
    `${p} must be ${positive ? 'a decimal greater than 0' : 'a decimal of 0 or more'} written as a string, with up to 12 digits before the point and 8 after`,
  side: (p: string) => `${p} must be one of: buy, sell`,
  iso8601: (p: string) => `${p} must be an ISO 8601 date-time`,
  timestamp: (p: string) => `${p} must include a time zone (Z or ±hh:mm) and at most 3 fraction digits`,
  externalId: (p: string) => `${p} must be 1-128 printable ASCII characters without spaces`,
  /** class-validator's own wording for a property the DTO does not declare. */
  unknown: (p: string) => `property ${p} should not exist`,
};

/** Trims and upper-cases strings (symbols, currency codes); leaves anything else to the validators. */
export const toUpper = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim().toUpperCase() : value;
