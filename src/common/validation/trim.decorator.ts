import { Transform } from 'class-transformer';

/** Trims surrounding whitespace from a string property before it is validated; other values pass through. */
export const Trim = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));
