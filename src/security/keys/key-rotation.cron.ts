import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { KeysService } from './keys.service';

/**
 * Automatic rotation: once a minute, keys whose `autoRotatePeriodSeconds` has passed since their
 * last rotation are rotated. Due keys are locked with SKIP LOCKED inside one transaction, so with
 * several instances each key is rotated once.
 */
@Injectable()
export class KeyRotationCron {
  private readonly logger = new Logger(KeyRotationCron.name);
  private running = false;

  constructor(private readonly keys: KeysService) {}

  @Interval('keys.auto-rotate', 60_000)
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.keys.rotateDue();
    } catch (err) {
      this.logger.error(`automatic key rotation failed: ${String(err)}`);
    } finally {
      this.running = false;
    }
  }
}
