import type { DomainEvent } from '../event-store/event-envelope.js';

/**
 * A business rule as two pure functions. `decide` throws an OAuth error class when the
 * command is refused; time, ids and randomness arrive inside the command.
 */
export interface Decider<Command, State, Event extends DomainEvent = DomainEvent> {
  readonly initialState: State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[];
  /** For a decider whose streams grow long: how its state goes into a snapshot and back. */
  readonly snapshot?: SnapshotCodec<State>;
  /**
   * For a state whose size varies: about how much memory it takes, in entries of its
   * collections (1 for a state of fixed size, the default), so the cache of folded
   * states can hold a bounded amount rather than a number of them. Called on every
   * command: it must cost next to nothing.
   */
  weigh?(state: State): number;
}

/**
 * A state as plain JSON and back. `kind` names the decider and a version, which must
 * change whenever the encoding, the state or `evolve` does: snapshots of another kind
 * are ignored, so a changed rule is never applied to a state folded by the old one.
 */
export interface SnapshotCodec<State> {
  readonly kind: string;
  encode(state: State): unknown;
  decode(data: unknown): State;
}

export function fold<State, Event extends DomainEvent>(decider: Pick<Decider<unknown, State, Event>, 'evolve' | 'initialState'>, events: readonly Event[]): State {
  return events.reduce(decider.evolve, decider.initialState);
}

/**
 * A refusal that must still be recorded: `decide` throws it with the events to append
 * (a replayed code, a reused refresh token), and the command path appends them before
 * it hands the caller the inner error.
 */
export class RefusedWithEvents<Event extends DomainEvent = DomainEvent> extends Error {
  override readonly name = 'RefusedWithEvents';
  constructor(
    readonly events: Event[],
    readonly refusal: Error,
  ) {
    super(refusal.message);
  }
}
