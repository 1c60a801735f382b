import type { CheckpointStore } from '../checkpoints/checkpoint-store.js';
import type { EventBus } from '../event-bus/event-bus.js';
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
 */
export class Relay {
  private subscription: Subscription | undefined;
  private published = 0;
  private failing = false;

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

  async start(): Promise<void> {
    this.published = await this.checkpoints.get(this.name);
    this.subscription = this.store.subscribeAll(this.published, async (batch) => {
      const acknowledged = await this.bus.publish(batch);
      // Say so once when the bus goes away and once when it is back, not at every retry.
      if (acknowledged < batch.length && !this.failing) {
        this.failing = true;
        this.logger?.error('relay: the event bus does not acknowledge; retrying, nothing is lost', { position: this.published });
      } else if (acknowledged === batch.length && this.failing) {
        this.failing = false;
        this.logger?.info('relay: the event bus acknowledges again', { position: batch[batch.length - 1].position });
      }
      if (acknowledged > 0) {
        const position = batch[acknowledged - 1].position;
        await this.checkpoints.set(this.name, position);
        this.published = position;
      }
      if (acknowledged < batch.length) {
        throw new RelayPublishIncomplete(`bus acknowledged ${acknowledged} of ${batch.length} events`);
      }
    });
  }

  /** Waits (bounded) until everything committed so far is published: for a graceful shutdown. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const head = await this.store.headPosition();
    const deadline = Date.now() + timeoutMs;
    while (this.published < head) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = undefined;
  }
}
