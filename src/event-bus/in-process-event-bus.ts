import { EventEmitter } from 'node:events';
import type { RecordedEvent } from '../event-store/event-envelope.js';
import { subjectMatches, subjectOf, type BusConsumer, type BusPublisher, type ConsumeOptions, type EventBus, type EventHandler } from './event-bus.js';

const TRIM_EVERY = 1024;

/**
 * The embedded default: the same contract as JetStream inside one process. It keeps
 * where each durable consumer is for as long as the process lives, and the events until
 * every durable consumer known so far has passed them (JetStream's interest retention),
 * so memory does not grow with every event ever published. A durable consumer first
 * seen later starts at the oldest event still kept; duplicates are dropped within the
 * events still kept. Until the first consumer comes, every event is kept (a resource
 * server in the same process starts after the relay has filled the bus), unless the
 * process says none will ever come: then nothing is.
 */
export class InProcessEventBus implements EventBus {
  /** Events from `trimmed` on; a cursor is an index into the whole history. */
  private log: RecordedEvent[] = [];
  private trimmed = 0;
  private readonly seen = new Set<string>();
  private readonly cursors = new Map<string, number>();
  private readonly published = new EventEmitter().setMaxListeners(0);
  private readonly consumers = new Set<BusConsumer>();

  constructor(
    private readonly retryMs = 200,
    private readonly consumersWillCome = true,
  ) {}

  /** One process, one relay: nothing to fence. */
  async takeOver(): Promise<BusPublisher> {
    return { lastPosition: this.log.at(-1)?.position ?? 0, publish: (events) => this.publish(events) };
  }

  async publish(events: RecordedEvent[]): Promise<number> {
    if (!this.consumersWillCome && this.cursors.size === 0) return events.length;
    for (const event of events) {
      if (this.seen.has(event.id)) continue;
      this.seen.add(event.id);
      this.log.push(event);
    }
    if (events.length > 0) this.published.emit('published');
    return events.length;
  }

  async consume(durableName: string, filterSubject: string, handler: EventHandler, options: ConsumeOptions = {}): Promise<BusConsumer> {
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
    if (!this.cursors.has(durableName) || options.fromStart) this.cursors.set(durableName, this.trimmed);
    const loop = (async () => {
      while (!stopped) {
        const cursor = this.cursors.get(durableName)!;
        const event = this.log[cursor - this.trimmed];
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
        this.trim();
      }
    })();
    const consumer: BusConsumer = {
      pending: async () => this.trimmed + this.log.length - this.cursors.get(durableName)!,
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

  /** Drops what every durable consumer has passed, a thousand or more at a time so the cost per event stays small. */
  private trim(): void {
    let oldest = Infinity;
    for (const cursor of this.cursors.values()) oldest = Math.min(oldest, cursor);
    const passed = oldest - this.trimmed;
    if (passed < TRIM_EVERY) return;
    for (const event of this.log.slice(0, passed)) this.seen.delete(event.id);
    this.log = this.log.slice(passed);
    this.trimmed = oldest;
  }

  isConnected(): boolean {
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
  }
}
