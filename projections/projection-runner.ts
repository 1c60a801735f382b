import type { EventBus, BusConsumer } from '../src/event-bus/event-bus.js';
import { upcast } from '../src/domain/event-catalog.js';
import type { RecordedEvent } from '../src/event-store/event-envelope.js';
import type { EventStore, Subscription } from '../src/event-store/event-store.js';
import { ExpiringDocuments } from './expiring-documents.js';
import type { Logger } from '../src/observability/logger.js';
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
  private readonly stalls = new Map<string, ProjectionStall>();

  constructor(
    readonly projections: readonly Projection[],
    readonly store: ProjectionStore,
    /** Where a projection that cannot apply an event is reported; a feed retrying it in silence would only show as lag. */
    private readonly log?: Pick<Logger, 'error' | 'info'>,
  ) {}

  /** Why the store cannot be read now, when the runner follows it and reading fails. */
  readFailure(): string | undefined {
    return this.feed && 'readFailure' in this.feed ? this.feed.readFailure?.() : undefined;
  }

  /** The lowest checkpoint of all projections: where a feed must start. */
  get position(): number {
    return this.projections.length === 0 ? 0 : Math.min(...this.projections.map((p) => this.store.checkpoint(p.name)));
  }

  apply(raw: readonly RecordedEvent[]): void {
    // Events from the bus arrive as they were written; projections see the current schema.
    // One that cannot be lifted fails, at its place, only the projections that reach it.
    const events = raw.map((event) => {
      try {
        return upcast(event);
      } catch (error) {
        return new EventNotApplied(event, error);
      }
    });
    const stalls: ProjectionStall[] = [];
    for (const projection of this.projections) {
      try {
        this.applyTo(projection, events);
        this.resumed(projection.name);
      } catch (error) {
        stalls.push(this.stalledAt(projection.name, events, error));
      }
    }
    for (const listener of this.listeners) listener();
    // The feed gives the batch again; the projections that applied it skip it by their checkpoints.
    if (stalls.length > 0) throw new ProjectionsStalled(stalls);
  }

  /**
   * Applies what it can: when an event cannot be applied, the events before it are kept
   * with the checkpoint just before it, and the failure is thrown.
   */
  private applyTo(projection: Projection, events: ReadonlyArray<RecordedEvent | EventNotApplied>): void {
    const checkpoint = this.store.checkpoint(projection.name);
    const changes = new Map<string, unknown>();
    let position = checkpoint;
    let latest = '';
    let failure: EventNotApplied | undefined;
    for (const event of events) {
      if (positionOf(event) <= position) continue;
      if (event instanceof EventNotApplied) {
        failure = event;
        break;
      }
      try {
        // All of an event's documents change, or none: a retry must not apply it twice to some.
        const evolved = projection.keysOf(event).map((key) => {
          const current = changes.has(key) ? changes.get(key) : this.store.get(projection.name, key);
          return [key, projection.evolve(current, event, key)] as const;
        });
        for (const [key, document] of evolved) changes.set(key, document);
      } catch (error) {
        failure = new EventNotApplied(event, error);
        break;
      }
      position = event.position;
      if (event.time > latest) latest = event.time;
    }
    if (position !== checkpoint) {
      if (projection.expiresAt) this.expire(projection, changes, latest);
      this.store.apply(projection.name, changes, position);
    }
    if (failure) throw failure;
  }

  /** Records (and logs once) that a projection cannot get past an event; repeated attempts at the same one stay quiet. */
  private stalledAt(name: string, events: ReadonlyArray<RecordedEvent | EventNotApplied>, error: unknown): ProjectionStall {
    // Not one event's fault (the projection store refused the batch): stuck at the first event it still needs.
    const checkpoint = this.store.checkpoint(name);
    const failed = error instanceof EventNotApplied ? error.event : events.map(eventOf).find((e) => e.position > checkpoint);
    const cause = error instanceof EventNotApplied ? error.cause : error;
    const previous = this.stalls.get(name);
    if (previous && previous.position === failed?.position) return previous;
    const stall: ProjectionStall = {
      projection: name,
      position: failed?.position ?? checkpoint + 1,
      eventId: failed?.id,
      type: failed?.type,
      schemaVersion: failed?.schemaVersion,
      error: describeError(cause),
      since: new Date().toISOString(),
    };
    this.stalls.set(name, stall);
    // The event's data stays out of the line: the record has it, by position.
    this.log?.error('projection cannot apply an event; retrying it, later events wait behind it', { ...stall });
    return stall;
  }

  private resumed(name: string): void {
    const stall = this.stalls.get(name);
    if (!stall || this.store.checkpoint(name) < stall.position) return;
    this.stalls.delete(name);
    this.log?.info('projection applied the event it was stuck on', { projection: name, position: stall.position });
  }

  /** The projections that cannot get past an event, with what failed: none when all is well. */
  stalled(): ProjectionStall[] {
    return [...this.stalls.values()];
  }

  /** What `stalled` says, in words, or why the store cannot be read (for readiness and errors); undefined when all is well. */
  stallReport(): string | undefined {
    return this.stalls.size === 0 ? this.readFailure() : describeStalls(this.stalled());
  }

  /** Adds to a batch's changes the removal of every document that has expired by the latest event applied (expiring-documents.ts). */
  private expire(projection: Projection, changes: Map<string, unknown>, time: string): void {
    let expiring = this.expiring.get(projection.name);
    if (!expiring) this.expiring.set(projection.name, (expiring = new ExpiringDocuments(projection, this.store)));
    for (const [key, document] of changes) expiring.track(key, document);
    const current = (key: string) => (changes.has(key) ? changes.get(key) : this.store.get(projection.name, key));
    for (const key of expiring.expiredBy(time, current)) changes.set(key, undefined);
  }

  /**
   * Resets the projections whose store holds another version of their fold (a store that
   * outlived an upgrade), so that they are folded again from the first event; records the
   * version of the others. Returns whether any must be folded again.
   */
  private refoldOutdated(): boolean {
    let refold = false;
    for (const projection of this.projections) {
      const version = projection.version ?? 1;
      const stored = this.store.foldVersion(projection.name);
      if (stored === version) continue;
      const folded = this.store.checkpoint(projection.name) > 0;
      this.store.reset(projection.name, version);
      if (!folded) continue;
      refold = true;
      this.log?.info('projection folded again from the first event: its store holds another version of its fold', { projection: projection.name, storedVersion: stored, version });
    }
    return refold;
  }

  /** The embedded default: follow the event store itself. */
  followStore(eventStore: EventStore): void {
    this.refoldOutdated();
    this.feed = eventStore.subscribeAll(this.position, async (batch) => this.apply(batch));
    // Counted in events, not positions: on EventStoreDB a position is a byte offset.
    this.lagOf = (projection) => eventStore.countAfter(projection ? this.store.checkpoint(projection) : this.position, LAG_COUNTED_UP_TO);
  }

  /** With NATS: a durable JetStream consumer per runner, acknowledged after each apply. */
  async followBus(bus: EventBus, durableName: string): Promise<void> {
    // The consumer has passed the events a projection folded again must see: it starts over,
    // and the projections that kept their fold skip them by their checkpoints.
    const fromStart = this.refoldOutdated();
    const consumer = await bus.consume(durableName, 'oauth.>', async (event) => this.apply([event]), { fromStart });
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
      const timer = setTimeout(() => {
        // A projection stuck on an event is why, more often than a slow store: say which.
        const why = this.stallReport();
        done(() => reject(new Error(`projections did not reach ${position}${why ? `: ${why}` : ''}`)));
      }, timeoutMs);
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

/**
 * Where counting lag stops: a store that must read events to count them (EventStoreDB)
 * reads at most this many per look, so a runner far behind shows this number.
 */
export const LAG_COUNTED_UP_TO = 10_000;

/** A projection that cannot get past the event at `position`. */
export interface ProjectionStall {
  projection: string;
  position: number;
  eventId?: string;
  type?: string;
  schemaVersion?: number;
  /** The error's name and message, never the event's data. */
  error: string;
  /** When this process first failed to apply it. */
  since: string;
}

/** Thrown by `apply` once every projection has applied what it could, so the feed gives the batch again. */
export class ProjectionsStalled extends Error {
  constructor(readonly stalls: readonly ProjectionStall[]) {
    super(describeStalls(stalls));
    this.name = 'ProjectionsStalled';
  }
}

const describeStalls = (stalls: readonly ProjectionStall[]): string =>
  stalls.map((s) => `${s.projection} cannot apply event ${s.position}${s.type ? ` (${s.type} v${s.schemaVersion})` : ''}: ${s.error}`).join('; ');

class EventNotApplied {
  constructor(
    readonly event: RecordedEvent,
    readonly cause: unknown,
  ) {}
}

const eventOf = (entry: RecordedEvent | EventNotApplied): RecordedEvent => (entry instanceof EventNotApplied ? entry.event : entry);
const positionOf = (entry: RecordedEvent | EventNotApplied): number => eventOf(entry).position;
const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : String(error).slice(0, 500);

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
