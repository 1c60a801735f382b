import type { CheckpointStore } from '../checkpoints/checkpoint-store.js';
import { PublisherFenced, type BusPublisher, type EventBus } from '../event-bus/event-bus.js';
import type { RecordedEvent } from '../event-store/event-envelope.js';
import type { EventStore, Subscription } from '../event-store/event-store.js';
import type { Logger } from '../observability/logger.js';

export class RelayPublishIncomplete extends Error {
  override readonly name = 'RelayPublishIncomplete';
}

/**
 * The only publisher to the bus. It tails the store's global log, publishes each batch
 * (the event id is the message id, so a republish after a crash is dropped by the bus),
 * and moves its checkpoint only past what the bus acknowledged. If the bus is away it
 * retries the same batch until the bus is back: nothing is skipped, nothing is lost.
 *
 * Each start takes the bus over first: from then on an earlier relay (on another instance,
 * paused past its lease) is refused by the bus. The relay resumes after the newest event the
 * bus holds or its checkpoint, whichever is further: a predecessor that died between a
 * publish and its checkpoint left events the checkpoint does not know about, and republishing
 * them would make duplicates once JetStream's duplicate window has passed. Once another relay
 * takes the bus over, this one stops and tells `onFenced` listeners; it never publishes again
 * until started again (which takes the bus back).
 */
export class Relay {
  private subscription: Subscription | undefined;
  private publisher: Promise<BusPublisher> | undefined;
  private published = 0;
  private failing = false;
  private fence: PublisherFenced | undefined;
  private readonly fencedListeners = new Set<(fence: PublisherFenced) => void>();

  constructor(
    private readonly store: EventStore,
    private readonly bus: EventBus,
    private readonly checkpoints: CheckpointStore,
    readonly name = 'relay',
    private readonly logger?: Logger,
  ) {}

  /** The global position of the last event the bus acknowledged. */
  get publishedPosition(): number {
    return this.published;
  }

  /** Why this relay stopped publishing: another took the bus over. Undefined while it may publish. */
  get fenced(): PublisherFenced | undefined {
    return this.fence;
  }

  /** Called once per start when another publisher takes the bus over and this relay stops. */
  onFenced(listener: (fence: PublisherFenced) => void): void {
    this.fencedListeners.add(listener);
  }

  async start(): Promise<void> {
    this.fence = undefined;
    this.failing = false;
    this.publisher = undefined;
    this.published = await this.checkpoints.get(this.name);
    // Take the bus over now if it answers (so an older relay is fenced as soon as this one
    // starts); if not, the first batch tries again, and again, until it does.
    await this.takeOver().catch(() => undefined);
    const subscription: Subscription = this.store.subscribeAll(this.published, (batch) => this.relay(batch, subscription));
    this.subscription = subscription;
  }

  private takeOver(): Promise<BusPublisher> {
    this.publisher ??= (async () => {
      const publisher = await this.bus.takeOver(this.name);
      const head = await this.store.headPosition();
      if (publisher.lastPosition > head) {
        // The bus holds events this store never wrote (a store started afresh beside an old
        // stream): its positions say nothing here, the checkpoint does.
        this.logger?.error('relay: the event bus holds positions past the store head; resuming from the checkpoint', { busPosition: publisher.lastPosition, head });
      } else if (publisher.lastPosition > this.published) {
        this.logger?.info('relay: the event bus holds events past the checkpoint; resuming after them', { checkpoint: this.published, busPosition: publisher.lastPosition });
        await this.checkpoints.set(this.name, publisher.lastPosition);
        this.published = publisher.lastPosition;
      }
      return publisher;
    })().catch((error: unknown) => {
      this.publisher = undefined;
      throw error;
    });
    return this.publisher;
  }

  private async relay(batch: RecordedEvent[], subscription: Subscription): Promise<void> {
    if (this.fence) throw this.fence;
    let publisher: BusPublisher;
    try {
      publisher = await this.takeOver();
    } catch (error) {
      this.busAway();
      throw error;
    }
    // Already on the bus, published by a predecessor past its last checkpoint.
    const fresh = batch.filter((event) => event.position > this.published);
    if (fresh.length === 0) return;
    let acknowledged: number;
    try {
      acknowledged = await publisher.publish(fresh);
    } catch (error) {
      if (!(error instanceof PublisherFenced)) throw error;
      await this.acknowledged(fresh, error.acknowledged);
      this.stopFenced(error, subscription);
      throw error;
    }
    // Say so once when the bus goes away and once when it is back, not at every retry.
    if (acknowledged < fresh.length) this.busAway();
    else if (this.failing) {
      this.failing = false;
      this.logger?.info('relay: the event bus acknowledges again', { position: fresh[fresh.length - 1].position });
    }
    await this.acknowledged(fresh, acknowledged);
    if (acknowledged < fresh.length) {
      throw new RelayPublishIncomplete(`bus acknowledged ${acknowledged} of ${fresh.length} events`);
    }
  }

  private busAway(): void {
    if (this.failing) return;
    this.failing = true;
    this.logger?.error('relay: the event bus does not acknowledge; retrying, nothing is lost', { position: this.published });
  }

  private async acknowledged(events: RecordedEvent[], count: number): Promise<void> {
    if (count === 0) return;
    const position = events[count - 1].position;
    await this.checkpoints.set(this.name, position);
    this.published = position;
  }

  private stopFenced(fence: PublisherFenced, subscription: Subscription): void {
    if (this.fence) return;
    this.fence = fence;
    this.logger?.error('relay: another relay took the event bus over; this one stops publishing', { position: this.published, reason: fence.message });
    // Stopped outside the handler (stopping waits for the handler to return), and only this
    // start's subscription, should the relay have been started again meanwhile.
    setImmediate(() => {
      void subscription.stop().then(() => {
        if (this.subscription === subscription) this.subscription = undefined;
      });
      for (const listener of this.fencedListeners) listener(fence);
    });
  }

  /** Waits (bounded) until everything committed so far is published: for a graceful shutdown. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const head = await this.store.headPosition();
    const deadline = Date.now() + timeoutMs;
    while (this.published < head) {
      if (this.fence || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = undefined;
  }
}
