import type { DomainEvent, NewEvent, RecordedEvent } from '../event-store/event-envelope.js';
import { WrongExpectedVersionError, type EventStore } from '../event-store/event-store.js';
import type { CommandContext } from './command-context.js';
import { checkEventData, currentSchemaVersion } from '../domain/event-catalog.js';
import { RefusedWithEvents, type Decider } from './decider.js';

/** Another writer changed the stream between our read and our append, more often than we retry. */
export class ConcurrencyConflict extends Error {
  override readonly name = 'ConcurrencyConflict';
  constructor(readonly stream: string) {
    super(`stream ${stream} changed concurrently`);
  }
}

export interface Decision<State> {
  /** What was appended (its global positions are the store's business; see `position`). */
  events: Array<NewEvent & Pick<RecordedEvent, 'stream' | 'revision'>>;
  /** Global position of the last event appended: wait for projections to reach it to read your writes. */
  position: number;
  state: State;
}

/**
 * The one path every command handler takes: load the stream, fold it, decide, append
 * with the exact expected revision. On a lost race it decides again on the fresh stream,
 * where the rule itself usually refuses (a code already redeemed). A refusal that must be
 * recorded (RefusedWithEvents) is appended first, then thrown. After `retries` lost
 * races it gives up with ConcurrencyConflict, never with two outcomes.
 */
export async function decideAndAppend<Command, State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  context: CommandContext,
  retries = 3,
): Promise<Decision<State>> {
  for (let attempt = 0; ; attempt++) {
    const history = await store.readStream(stream);
    let state = decider.initialState;
    for (const event of history) state = decider.evolve(state, event as unknown as Event);
    let decided: Event[];
    let refusal: Error | undefined;
    try {
      decided = decider.decide(command, state);
    } catch (error) {
      if (!(error instanceof RefusedWithEvents)) throw error;
      decided = error.events as Event[];
      refusal = error.refusal;
    }
    if (decided.length === 0) {
      if (refusal) throw refusal;
      return { events: [], position: 0, state };
    }
    const expected = history.length === 0 ? 'no_stream' : history[history.length - 1].revision;
    const toAppend: NewEvent[] = decided.map((event) => {
      checkEventData(event.type, event.data);
      return {
        id: context.newId(),
        type: event.type,
        data: event.data as Record<string, unknown>,
        schemaVersion: event.schemaVersion ?? currentSchemaVersion(event.type),
        time: context.now.toISOString(),
        correlationId: context.correlationId,
        causationId: context.causationId,
      };
    });
    try {
      const { position, revision } = await store.append(stream, toAppend, expected);
      const first = revision - toAppend.length + 1;
      const events = toAppend.map((event, i) => ({ ...event, stream, revision: first + i }));
      if (refusal) throw refusal;
      for (const event of decided) state = decider.evolve(state, event);
      return { events, position, state };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      if (attempt >= retries) throw new ConcurrencyConflict(stream);
    }
  }
}
