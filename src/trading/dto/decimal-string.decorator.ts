import { applyDecorators } from '@nestjs/common';
import { IsString, Matches } from 'class-validator';
import { DECIMAL_20_8, MESSAGES, POSITIVE_DECIMAL_20_8 } from './input-rules';

/** A non-negative (or, with `positive`, strictly positive) decimal string that fits numeric(20,8). */
export function IsDecimalString(options: { positive?: boolean } = {}): PropertyDecorator {
  const positive = options.positive ?? false;
  return applyDecorators(
    IsString({ message: (a) => MESSAGES.string(a.property) }),
    Matches(positive ? POSITIVE_DECIMAL_20_8 : DECIMAL_20_8, {
      message: (a) => MESSAGES.decimal(a.property, positive),
    }),
  );
}
