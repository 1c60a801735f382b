import type { Projection } from './projection.js';
import type { ProjectionStore } from './projection-store.js';

/**
 * The documents of one projection that expire, soonest first, so that each batch the
 * runner applies also removes those whose time has passed. "Passed" is judged by the
 * latest time of the events applied so far (not the last event's: times from several
 * instances need not follow positions). That time only grows, so whatever batches a
 * rebuild reads the store in, it comes out holding exactly the documents that expire
 * after the latest event, as the live projection does. And never past this process's
 * own clock: one event stamped in the future (a clock that jumped) must not take away
 * revocations that still matter here.
 */
export class ExpiringDocuments {
  /**
   * A binary min-heap of [expiresAt, key], at most one entry per key. A document whose
   * expiry moves later (a grant refreshed) keeps its entry: when that comes up, the
   * document is looked at and its entry goes back in at the document's new time. So the
   * heap holds one entry per expiring document, however often each changes.
   */
  private readonly heap: Array<[string, string]> = [];
  /** The time each key's entry in the heap has. */
  private readonly scheduled = new Map<string, string>();
  private latest = '';

  constructor(
    private readonly projection: Projection,
    store: ProjectionStore,
  ) {
    // A store that outlives the process (SQLite) comes back with documents already in it.
    for (const [key, document] of store.entries(projection.name)) this.track(key, document);
  }

  track(key: string, document: unknown): void {
    const expiresAt = this.expiryOf(document);
    if (expiresAt === undefined) return;
    const at = this.scheduled.get(key);
    // Later than its entry, or the same: the entry stands, and is moved when it comes up.
    if (at !== undefined && at <= expiresAt) return;
    // Sooner (rare): a second entry at the sooner time; the later one is let go when it comes up.
    this.scheduled.set(key, expiresAt);
    this.push([expiresAt, key]);
  }

  /** Entries in the heap: one per expiring document, give or take those a sooner time left behind. */
  get size(): number {
    return this.heap.length;
  }

  private expiryOf(document: unknown): string | undefined {
    return document === undefined ? undefined : this.projection.expiresAt!(document);
  }

  /** After a batch whose latest event is at `time`: the keys whose documents have expired, given where each now stands. */
  expiredBy(time: string, current: (key: string) => unknown, now = new Date().toISOString()): string[] {
    if (time > this.latest) this.latest = time;
    const by = this.latest < now ? this.latest : now;
    const expired: string[] = [];
    while (this.heap.length > 0 && this.heap[0][0] < by) {
      const [at, key] = this.pop();
      // An entry left behind when a sooner one was pushed for the same key.
      if (this.scheduled.get(key) !== at) continue;
      this.scheduled.delete(key);
      const document = current(key);
      const expiresAt = this.expiryOf(document);
      if (expiresAt === undefined) continue;
      if (expiresAt < by) expired.push(key);
      else this.track(key, document);
    }
    return expired;
  }

  private push(entry: [string, string]): void {
    const heap = this.heap;
    heap.push(entry);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (heap[parent][0] <= heap[i][0]) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  private pop(): [string, string] {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && heap[left][0] < heap[least][0]) least = left;
        if (right < heap.length && heap[right][0] < heap[least][0]) least = right;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i], heap[least]];
        i = least;
      }
    }
    return top;
  }
}
