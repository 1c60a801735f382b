import type { EventBus, BusConsumer } from '../src/event-bus/event-bus.js';
import { upcast } from '../src/domain/event-catalog.js';
import type { RecordedEvent } from '../src/event-store/event-envelope.js';
import type { EventStore, Subscription } from '../src/event-store/event-store.js';
import { ExpiringDocuments } from './expiring-documents.js';
import type { Projection } from './projection.js';
import { MemoryProjectionStore, type ProjectionStore } from './projection-store.js';

/**
 * Feeds events to projections. An event at or below a projection's checkpoint has been
 * applied already and is skipped, so replays and duplicate deliveries change nothing.
 */
export class ProjectionRunner {
  private feed: Subscription | BusConsumer | undefined;
  private lagOf: ((projection?: string) => Promise<number>) | undefined;
  private readonly listeners = new Set<() => void>();
  /** For each projection whose documents expire: made on its first batch, from what the store holds. */
  private readonly expiring = new Map<string, ExpiringDocuments>();

  constructor(
    readonly projections: readonly Projection[],
    readonly store: ProjectionStore,
  ) {}

  /** The lowest checkpoint of all projections: where a feed must start. */
  get position(): number {
    return this.projections.length === 0 ? 0 : Math.min(...this.projections.map((p) => this.store.checkpoint(p.name)));
  }

  apply(raw: readonly RecordedEvent[]): void {
    // Events from the bus arrive as they were written; projections see the current schema.
    const events = raw.map(upcast);
    for (const projection of this.projections) {
      const checkpoint = this.store.checkpoint(projection.name);
      const changes = new Map<string, unknown>();
      let position = checkpoint;
      for (const event of events) {
        if (event.position <= position) continue;
        for (const key of projection.keysOf(event)) {
          const current = changes.has(key) ? changes.get(key) : this.store.get(projection.name, key);
          changes.set(key, projection.evolve(current, event, key));
        }
        position = event.position;
      }
      if (position === checkpoint) continue;
      if (projection.expiresAt) this.expire(projection, changes, latestTime(events));
      this.store.apply(projection.name, changes, position);
    }
    for (const listener of this.listeners) listener();
  }

  /** Adds to a batch's changes the removal of every document that has expired by the latest event applied (expiring-documents.ts). */
  private expire(projection: Projection, changes: Map<string, unknown>, time: string): void {
    let expiring = this.expiring.get(projection.name);
    if (!expiring) this.expiring.set(projection.name, (expiring = new ExpiringDocuments(projection, this.store)));
    for (const [key, document] of changes) expiring.track(key, document);
    const current = (key: string) => (changes.has(key) ? changes.get(key) : this.store.get(projection.name, key));
    for (const key of expiring.expiredBy(time, current)) changes.set(key, undefined);
  }

  /** The embedded default: follow the event store itself. */
  followStore(eventStore: EventStore): void {
    this.feed = eventStore.subscribeAll(this.position, async (batch) => this.apply(batch));
    this.lagOf = async (projection) => Math.max(0, (await eventStore.headPosition()) - (projection ? this.store.checkpoint(projection) : this.position));
  }

  /** With NATS: a durable JetStream consumer per runner, acknowledged after each apply. */
  async followBus(bus: EventBus, durableName: string): Promise<void> {
    const consumer = await bus.consume(durableName, 'oauth.>', async (event) => this.apply([event]));
    this.feed = consumer;
    this.lagOf = () => consumer.pending();
  }

  /** How many events behind its source the slowest projection is (0 when caught up or not fed). */
  lag(): Promise<number> {
    return this.lagOf?.() ?? Promise.resolve(0);
  }

  /** The lag of each projection (fed by one bus consumer, they share it). */
  async lagByProjection(): Promise<Array<[string, number]>> {
    return Promise.all(this.projections.map(async (p) => [p.name, (await this.lagOf?.(p.name)) ?? 0] as [string, number]));
  }

  /** Resolves once every projection has reached `position` (for read-your-writes and readiness). */
  waitFor(position: number, timeoutMs = 5000): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.position >= position) done(resolve);
      };
      const timer = setTimeout(() => done(() => reject(new Error(`projections did not reach ${position}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
    });
  }

  async stop(): Promise<void> {
    await this.feed?.stop();
    this.feed = undefined;
  }
}

const latestTime = (events: readonly RecordedEvent[]) => events.reduce((latest, event) => (event.time > latest ? event.time : latest), '');

/** Folds the whole store into a fresh in-memory copy of one projection. */
export async function rebuildProjection(
  projection: Projection,
  eventStore: EventStore,
  upTo?: number,
  onProgress?: (position: number) => void,
): Promise<MemoryProjectionStore> {
  const fresh = new MemoryProjectionStore();
  const runner = new ProjectionRunner([projection], fresh);
  const head = upTo ?? (await eventStore.headPosition());
  let position = 0;
  while (position < head) {
    const batch = (await eventStore.readAll(position, 4096)).filter((e) => e.position <= head);
    if (batch.length === 0) break;
    runner.apply(batch);
    position = batch[batch.length - 1].position;
    onProgress?.(position);
  }
  return fresh;
}
