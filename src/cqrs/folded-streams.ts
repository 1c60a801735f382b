import type { DomainEvent } from '../event-store/event-envelope.js';
import type { EventStore } from '../event-store/event-store.js';
import type { Decider } from './decider.js';

type Evolving<State> = Pick<Decider<unknown, State, DomainEvent>, 'evolve' | 'initialState'>;

export interface FoldedStream<State> {
  state: State;
  /** Revision of the last event folded in; undefined while the stream does not exist. */
  revision: number | undefined;
}

interface Entry {
  decider: unknown;
  folded: FoldedStream<unknown>;
}

/**
 * The folded state of recently used streams with the revision it reached, so a hot
 * stream (a grant after hundreds of refresh rotations) is not read and folded from its
 * start by every command: only the events after that revision are read, which also
 * brings in what other instances appended. Appends still carry the expected revision,
 * so a stale entry can cost a retry, never a wrong outcome. A decider's state never
 * changes once made (the grant's grow-only maps share a log, but no version ever sees
 * it change), so a cached state is never changed behind the cache's back.
 */
export class FoldedStreams {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly store: EventStore,
    private readonly capacity = 2_000,
  ) {}

  async load<State>(stream: string, decider: Evolving<State>): Promise<FoldedStream<State>> {
    const cached = this.entries.get(stream);
    const start: FoldedStream<State> =
      cached && cached.decider === decider ? (cached.folded as FoldedStream<State>) : { state: decider.initialState, revision: undefined };
    const newer = await this.store.readStream(stream, start.revision === undefined ? 0 : start.revision + 1);
    let folded = start;
    if (newer.length > 0) {
      let state = start.state;
      for (const event of newer) state = decider.evolve(state, event);
      folded = { state, revision: newer[newer.length - 1].revision };
    }
    if (folded.revision !== undefined) this.remember(stream, decider, folded);
    return folded;
  }

  remember<State>(stream: string, decider: Evolving<State>, folded: FoldedStream<State>): void {
    // Least recently used goes first: a Map iterates in insertion order, so re-insert on use.
    this.entries.delete(stream);
    this.entries.set(stream, { decider, folded });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
