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
