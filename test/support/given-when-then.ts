import { RefusedWithEvents, type Decider } from '../../src/domain/decider.js';
import type { DomainEvent } from '../../src/event-store/event-envelope.js';

/** given(past events).when(command) → the new events, or the error the rule throws. */
export function given<C, S, E extends DomainEvent>(decider: Decider<C, S, E>, history: E[]) {
  const state = history.reduce(decider.evolve, decider.initialState);
  return {
    when: (command: C) => ({
      then: (expected: E[]) => expect(decider.decide(command, state)).toEqual(expected),
      /** The rule refuses, but what it found must be on record first (RefusedWithEvents). */
      thenRecordsAndRefuses: (expected: E[], errorClass: new (...args: never[]) => Error) => {
        let thrown: unknown;
        try {
          decider.decide(command, state);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(RefusedWithEvents);
        expect((thrown as RefusedWithEvents).events).toEqual(expected);
        expect((thrown as RefusedWithEvents).refusal).toBeInstanceOf(errorClass);
      },
      thenRefuses: (errorClass: new (...args: never[]) => Error, message?: RegExp) => {
        let thrown: unknown;
        try {
          decider.decide(command, state);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(errorClass);
        if (message) expect((thrown as Error).message).toMatch(message);
      },
    }),
  };
}
