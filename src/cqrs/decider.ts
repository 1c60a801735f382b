import type { DomainEvent } from '../event-store/event-envelope.js';

/**
 * A business rule as two pure functions. `decide` throws an OAuth error class when the
 * command is refused; time, ids and randomness arrive inside the command.
 */
export interface Decider<Command, State, Event extends DomainEvent = DomainEvent> {
  readonly initialState: State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[];
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
