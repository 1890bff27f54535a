import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/** Random bytes drawn 4 KiB at a time: one randomBytes() call per id costs more than the rest of the id. */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let offset = POOL_SIZE;

function random(n: number): Buffer {
  if (offset + n > pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  offset += n;
  return pool.subarray(offset - n, offset);
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that keeps ids
 * made in the same millisecond increasing (method 1 of §6.2), then 62 random bits. Time-ordered
 * ids land at the right edge of the primary-key index instead of anywhere in it, which makes bulk
 * trade inserts markedly cheaper than with random (v4) ids.
 */
export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = random(2).readUInt16BE() & 0x7ff; // start in the lower half: room to count up
  } else if (++counter > 0xfff) {
    lastMs += 1; // counter exhausted: borrow the next millisecond
    counter = 0;
  }
  const bytes = Buffer.from(random(16)); // a copy: the pool is reused
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
