import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/**
 * Bounds the CPU an `asOf` replay can take from other requests: at most `max` replays run at once
 * (the rest wait their turn, in order), and a replay gives the event loop back every `slice`
 * trades, so a burst of as-of reads queues behind itself instead of stalling every other request.
 */
export class ReplayGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly max = 2,
    readonly slice = 256,
  ) {}

  async run<T>(work: (pause: (done: number) => Promise<void>) => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      let sinceYield = 0;
      return await work(async (done) => {
        sinceYield += done;
        if (sinceYield >= this.slice) {
          sinceYield = 0;
          await yieldToEventLoop();
        }
      });
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
