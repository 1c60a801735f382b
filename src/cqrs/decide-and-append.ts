import type { DomainEvent, NewEvent, RecordedEvent } from '../event-store/event-envelope.js';
import { WrongExpectedVersionError } from '../event-store/event-store.js';
import type { CommandContext } from './command-context.js';
import { checkEventData, currentSchemaVersion } from '../domain/event-catalog.js';
import { RefusedWithEvents, type Decider } from '../domain/decider.js';
import type { FoldedStreams } from './folded-streams.js';

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

export interface DecideOptions<State = unknown> {
  /** Lost races to decide again after, before giving up with ConcurrencyConflict. */
  retries?: number;
  /** The stream's name holds an id just made for this command: skip reading it. */
  newStream?: boolean;
  /** Keep a new stream's state in the cache too: the next steps of a flow will read it. */
  remember?: boolean;
  /**
   * A refusal that depends on more than the stream (the read side: a user disabled since),
   * checked on the loaded state before deciding: throw to refuse with nothing appended.
   */
  refuseIf?: (state: State) => void;
}

/**
 * The one path every command handler takes: load the stream's folded state, decide, append
 * with the exact expected revision. On a lost race it decides again on the fresh stream,
 * where the rule itself usually refuses (a code already redeemed). A refusal that must be
 * recorded (RefusedWithEvents) is appended first, then thrown. After `retries` lost
 * races it gives up with ConcurrencyConflict, never with two outcomes.
 */
export async function decideAndAppend<Command, State, Event extends DomainEvent>(
  streams: FoldedStreams,
  stream: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  context: CommandContext,
  options: DecideOptions<State> = {},
): Promise<Decision<State>> {
  const { retries = 3, newStream = false, remember = false, refuseIf } = options;
  for (let attempt = 0; ; attempt++) {
    // A stream named by an id made for this command has nothing to read; if it did, the append says so.
    const loaded =
      newStream && attempt === 0
        ? { state: decider.initialState, revision: undefined }
        : await streams.load(stream, decider as unknown as Decider<unknown, State, DomainEvent>);
    let state = loaded.state;
    refuseIf?.(state);
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
    const expected = loaded.revision ?? 'no_stream';
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
      const { position, revision } = await streams.store.append(stream, toAppend, expected);
      const first = revision - toAppend.length + 1;
      const events = toAppend.map((event, i) => ({ ...event, stream, revision: first + i }));
      for (const event of decided) state = decider.evolve(state, event);
      // A stream this command created is often never used again (a client_credentials token's
      // grant): caching only streams that already had a past keeps the cache for the hot ones.
      if (loaded.revision !== undefined || remember) streams.remember(stream, decider as unknown as Decider<unknown, State, DomainEvent>, { state, revision });
      if (refusal) throw refusal;
      return { events, position, state };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      if (attempt >= retries) throw new ConcurrencyConflict(stream);
    }
  }
}
