import { v7 } from 'uuid';

/**
 * A UUID version 7 (RFC 9562), from the `uuid` package: 48 bits of Unix milliseconds, then a
 * counter that keeps ids made in the same millisecond increasing, then random bits. Time-ordered
 * ids land at the right edge of the primary-key index instead of anywhere in it, which makes bulk
 * trade inserts markedly cheaper than with random (v4) ids.
 *
 * It replaced a hand-written generator: about 1 µs more per id (2.6 vs 1.7 µs, then 1.9 vs 0.8 µs,
 * 10^6 ids, load average 12.7), nothing next to the insert of the row it keys.
 */
export function uuidv7(): string {
  return v7();
}
