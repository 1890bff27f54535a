import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { TradingEventName, TradingEventPayloads } from './trading.events';

/**
 * Emits trading events after commit. A failing subscriber is logged and never turns a committed
 * write into an error answer (the client would retry something that succeeded).
 */
@Injectable()
export class TradingEventsPublisher {
  private readonly logger = new Logger('TradingEvents');

  constructor(private readonly events: EventEmitter2) {}

  emit<E extends TradingEventName>(name: E, payload: TradingEventPayloads[E]): void {
    try {
      this.events.emit(name, payload);
    } catch (err) {
      this.logger.error(`a subscriber of ${name} failed`, err instanceof Error ? err.stack : String(err));
    }
  }
}
