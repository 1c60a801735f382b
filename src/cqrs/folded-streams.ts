import type { DomainEvent, RecordedEvent } from '../event-store/event-envelope.js';
import type { EventStore } from '../event-store/event-store.js';
import type { SnapshotStore } from '../snapshots/snapshot-store.js';
import type { Decider } from '../domain/decider.js';

type Evolving<State> = Pick<Decider<unknown, State, DomainEvent>, 'evolve' | 'initialState' | 'snapshot' | 'weigh'>;

export interface FoldedStream<State> {
  state: State;
  /** Revision of the last event folded in; undefined while the stream does not exist. */
  revision: number | undefined;
}

interface Entry {
  decider: unknown;
  folded: FoldedStream<unknown>;
  weight: number;
}

/**
 * How much the cache holds: at most `streams` states, weighing at most `weight` together
 * (a state weighs what its decider's `weigh` says, 1 without one). By count alone, 2,000
 * grants refreshed around the clock for a month (about a megabyte each) would be 2 GB.
 * A grant's entry (a token id or a spent hash, with its expiry) takes about 220 bytes
 * (measured), so the default weight is some 55 MB: room for the refresh benchmark's 16
 * grants, each refreshed thousands of times within one access token's lifetime, without
 * churning.
 */
export interface CacheCapacity {
  streams: number;
  weight: number;
}
const DEFAULT_CAPACITY: CacheCapacity = { streams: 2_000, weight: 250_000 };

export interface SnapshotOptions {
  store: SnapshotStore;
  /** A load that had to read this many events from the store leaves a snapshot behind. */
  every: number;
}

/**
 * The folded state of recently used streams with the revision it reached, so a hot
 * stream (a grant after hundreds of refresh rotations) is not read and folded from its
 * start by every command: only the events after that revision are read, which also
 * brings in what other instances appended. Appends still carry the expected revision,
 * so a stale entry can cost a retry, never a wrong outcome. A decider's state never
 * changes once made (the grant's grow-only maps share a log, but no version ever sees
 * it change), so a cached state is never changed behind the cache's back.
 *
 * With snapshots, a stream that is not cached starts from its snapshot, when its kind
 * is the decider's and the event at its revision is the one it was taken at. A load
 * that read `every` events or more from the store leaves a new one: the cost falls on
 * loads that were slow anyway, never on a hot stream served from the cache, and the
 * next load of that stream reads fewer than `every` events.
 */
export class FoldedStreams {
  private readonly entries = new Map<string, Entry>();
  private readonly capacity: CacheCapacity;
  private weight = 0;

  constructor(
    readonly store: EventStore,
    capacity: Partial<CacheCapacity> = {},
    private readonly snapshots?: SnapshotOptions,
  ) {
    this.capacity = { ...DEFAULT_CAPACITY, ...capacity };
  }

  /** What the cache holds now: streams, and their weight together. */
  get held(): CacheCapacity {
    return { streams: this.entries.size, weight: this.weight };
  }

  async load<State>(stream: string, decider: Evolving<State>): Promise<FoldedStream<State>> {
    const cached = this.entries.get(stream);
    const { start, newer } =
      cached && cached.decider === decider
        ? { start: cached.folded as FoldedStream<State>, newer: await this.store.readStream(stream, (cached.folded.revision ?? -1) + 1) }
        : await this.fromSnapshot(stream, decider);
    let folded = start;
    if (newer.length > 0) {
      let state = start.state;
      for (const event of newer) state = decider.evolve(state, event);
      folded = { state, revision: newer[newer.length - 1].revision };
      if (this.snapshots && newer.length >= this.snapshots.every) void this.snapshot(stream, decider, folded, newer[newer.length - 1]);
    }
    if (folded.revision !== undefined) this.remember(stream, decider, folded);
    return folded;
  }

  remember<State>(stream: string, decider: Evolving<State>, folded: FoldedStream<State>): void {
    // Least recently used goes first: a Map iterates in insertion order, so re-insert on use.
    this.forget(stream);
    const weight = decider.weigh?.(folded.state) ?? 1;
    // One state heavier than the whole budget would push out every other: it is read again (from its snapshot) instead.
    if (weight > this.capacity.weight) return;
    this.entries.set(stream, { decider, folded, weight });
    this.weight += weight;
    while (this.entries.size > this.capacity.streams || this.weight > this.capacity.weight) this.forget(this.entries.keys().next().value!);
  }

  private forget(stream: string): void {
    const entry = this.entries.get(stream);
    if (!entry) return;
    this.entries.delete(stream);
    this.weight -= entry.weight;
  }

  /** Not awaited by the load: the command goes on while the snapshot is written. */
  private async snapshot<State>(stream: string, decider: Evolving<State>, folded: FoldedStream<State>, last: RecordedEvent): Promise<void> {
    if (!decider.snapshot) return;
    try {
      await this.snapshots!.store.put({ stream, kind: decider.snapshot.kind, revision: last.revision, eventId: last.id, state: decider.snapshot.encode(folded.state) });
    } catch {
      // Only slower reads lost (a full disk, the database away): never the command that is running.
    }
  }

  private async fromSnapshot<State>(stream: string, decider: Evolving<State>): Promise<{ start: FoldedStream<State>; newer: RecordedEvent[] }> {
    const snapshot = await this.snapshotOf(stream, decider);
    if (snapshot) {
      // From the snapshot's own event on: it must still be there, as it was.
      const events = await this.store.readStream(stream, snapshot.revision);
      if (events[0]?.id === snapshot.eventId) return { start: { state: snapshot.state, revision: snapshot.revision }, newer: events.slice(1) };
    }
    return { start: { state: decider.initialState, revision: undefined }, newer: await this.store.readStream(stream, 0) };
  }

  /** The stream's snapshot decoded, when there is a usable one: an unreadable one is as good as none. */
  private async snapshotOf<State>(stream: string, decider: Evolving<State>): Promise<{ state: State; revision: number; eventId: string } | undefined> {
    if (!this.snapshots || !decider.snapshot) return undefined;
    try {
      const snapshot = await this.snapshots.store.get(stream);
      if (!snapshot || snapshot.kind !== decider.snapshot.kind) return undefined;
      return { state: decider.snapshot.decode(snapshot.state), revision: snapshot.revision, eventId: snapshot.eventId };
    } catch {
      return undefined;
    }
  }
}
