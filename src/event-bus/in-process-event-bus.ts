import { EventEmitter } from 'node:events';
import type { RecordedEvent } from '../event-store/event-envelope.js';
import { subjectMatches, subjectOf, type BusConsumer, type EventBus, type EventHandler } from './event-bus.js';

/**
 * The embedded default: the same contract as JetStream inside one process. It keeps
 * what was published and where each durable consumer is, for as long as the process lives.
 */
export class InProcessEventBus implements EventBus {
  private readonly log: RecordedEvent[] = [];
  private readonly seen = new Set<string>();
  private readonly cursors = new Map<string, number>();
  private readonly published = new EventEmitter().setMaxListeners(0);
  private readonly consumers = new Set<BusConsumer>();

  constructor(private readonly retryMs = 200) {}

  async publish(events: RecordedEvent[]): Promise<number> {
    for (const event of events) {
      if (this.seen.has(event.id)) continue;
      this.seen.add(event.id);
      this.log.push(event);
    }
    if (events.length > 0) this.published.emit('published');
    return events.length;
  }

  async consume(durableName: string, filterSubject: string, handler: EventHandler): Promise<BusConsumer> {
    let stopped = false;
    let wake: (() => void) | undefined;
    const onPublished = () => wake?.();
    this.published.on('published', onPublished);
    const idle = (ms?: number) =>
      new Promise<void>((resolve) => {
        const timer = ms === undefined ? undefined : setTimeout(() => resolve(), ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const loop = (async () => {
      while (!stopped) {
        const cursor = this.cursors.get(durableName) ?? 0;
        const event = this.log[cursor];
        if (!event) {
          await idle();
          continue;
        }
        if (subjectMatches(filterSubject, subjectOf(event))) {
          try {
            await handler(event);
          } catch {
            await idle(this.retryMs);
            continue;
          }
        }
        this.cursors.set(durableName, cursor + 1);
      }
    })();
    const consumer: BusConsumer = {
      pending: async () => this.log.length - (this.cursors.get(durableName) ?? 0),
      stop: async () => {
        stopped = true;
        this.published.off('published', onPublished);
        wake?.();
        await loop;
        this.consumers.delete(consumer);
      },
    };
    this.consumers.add(consumer);
    return consumer;
  }

  isConnected(): boolean {
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
  }
}
