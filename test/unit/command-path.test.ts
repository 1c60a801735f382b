import { Inject } from '@nestjs/common';
import { FoldedStreams } from '../../src/cqrs/folded-streams.js';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { startCommandBus, PORTS, type CommandBusHandle } from '../../src/cqrs/command-bus.js';
import { commandContext } from '../../src/cqrs/command-context.js';
import { ConcurrencyConflict, decideAndAppend, type Decision } from '../../src/cqrs/decide-and-append.js';
import type { Decider } from '../../src/domain/decider.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import { MemoryEventStore } from '../../src/event-store/memory-event-store.js';

// A ticket that can be punched once: the smallest rule with a race in it.
type TicketEvent = { type: 'TicketIssued'; data: { ticketId: string } } | { type: 'TicketPunched'; data: { by: string } };
interface TicketState { issued: boolean; punchedBy: string | null }
class TicketAlreadyPunched extends Error {}
interface PunchCommand { by: string }
const ticket: Decider<PunchCommand | { issue: string }, TicketState, TicketEvent> = {
  initialState: { issued: false, punchedBy: null },
  evolve: (state, event) =>
    event.type === 'TicketIssued' ? { ...state, issued: true } : { ...state, punchedBy: event.data.by },
  decide: (command, state) => {
    if ('issue' in command) return state.issued ? [] : [{ type: 'TicketIssued', data: { ticketId: command.issue } }];
    if (state.punchedBy) throw new TicketAlreadyPunched(state.punchedBy);
    return [{ type: 'TicketPunched', data: { by: command.by } }];
  },
};

class PunchTicket extends Command<Decision<TicketState>> {
  constructor(readonly ticketId: string, readonly by: string) {
    super();
  }
}

@CommandHandler(PunchTicket)
class PunchTicketHandler implements ICommandHandler<PunchTicket> {
  constructor(@Inject(PORTS) private readonly ports: { streams: FoldedStreams }) {}
  execute(command: PunchTicket) {
    return decideAndAppend(this.ports.streams, `ticket-${command.ticketId}`, ticket, { by: command.by }, commandContext('corr-1'));
  }
}

describe('the shared command path through @nestjs/cqrs', () => {
  let store: MemoryEventStore;
  let bus: CommandBusHandle;
  beforeEach(async () => {
    store = new MemoryEventStore();
    bus = await startCommandBus({ streams: new FoldedStreams(store) }, [PunchTicketHandler]);
    await decideAndAppend(new FoldedStreams(store), 'ticket-t1', ticket, { issue: 't1' }, commandContext());
  });
  afterEach(async () => {
    await bus.close();
  });

  it('loads, folds, decides and appends through the command bus', async () => {
    const decision = await bus.commandBus.execute(new PunchTicket('t1', 'alice'));
    expect(decision.state).toEqual({ issued: true, punchedBy: 'alice' });
    expect(decision.events).toMatchObject([{ type: 'TicketPunched', stream: 'ticket-t1', revision: 1, correlationId: 'corr-1' }]);
    expect((await store.readStream('ticket-t1')).map((e) => e.type)).toEqual(['TicketIssued', 'TicketPunched']);
    expect(decision.position).toBe(2);
  });

  it('lets exactly one of twenty concurrent commands win; the others meet the rule, not a crash', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => bus.commandBus.execute(new PunchTicket('t1', `user${i}`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(r.reason).toBeInstanceOf(TicketAlreadyPunched);
    expect((await store.readStream('ticket-t1')).filter((e) => e.type === 'TicketPunched')).toHaveLength(1);
  });

  it('gives up with a typed ConcurrencyConflict when it keeps losing the race', async () => {
    const racing: EventStore = Object.create(store);
    racing.append = async (stream, events) => {
      await store.append(stream, [{ ...events[0], id: `${events[0].id}-other` }], 'any');
      return store.append(stream, events, 0);
    };
    const punchy: Decider<PunchCommand, TicketState, TicketEvent> = { ...ticket, decide: (c) => [{ type: 'TicketPunched', data: { by: c.by } }] };
    await expect(decideAndAppend(new FoldedStreams(racing), 'ticket-t1', punchy, { by: 'x' }, commandContext(), { retries: 2 })).rejects.toBeInstanceOf(ConcurrencyConflict);
  });
});

describe('folded streams: the cached state of hot streams', () => {
  it('reads only the events after the revision it has folded, and sees what another writer appended', async () => {
    const store = new MemoryEventStore();
    const reads: number[] = [];
    const watched: EventStore = Object.create(store);
    watched.readStream = (stream, fromRevision) => {
      reads.push(fromRevision ?? 0);
      return store.readStream(stream, fromRevision);
    };
    const streams = new FoldedStreams(watched);
    await decideAndAppend(streams, 'ticket-t2', ticket, { issue: 't2' }, commandContext());
    // A stream the command created is not kept (most are never used again); one read back is.
    expect(await streams.load('ticket-t2', ticket)).toEqual({ state: { issued: true, punchedBy: null }, revision: 0 });
    expect(await streams.load('ticket-t2', ticket)).toEqual({ state: { issued: true, punchedBy: null }, revision: 0 });
    expect(reads).toEqual([0, 0, 1]);

    // Another instance punches the ticket behind this cache's back: the next decision still knows.
    await store.append('ticket-t2', [{ id: 'e-bob', type: 'TicketPunched', data: { by: 'bob' }, schemaVersion: 1, time: new Date().toISOString(), correlationId: 'c', causationId: null }], 0);
    await expect(decideAndAppend(streams, 'ticket-t2', ticket, { by: 'alice' }, commandContext())).rejects.toBeInstanceOf(TicketAlreadyPunched);
    expect(reads).toEqual([0, 0, 1, 1]);
  });

  it('skips reading a stream named by a fresh id, and decides again on the real one if it existed after all', async () => {
    const store = new MemoryEventStore();
    const reads: string[] = [];
    const watched: EventStore = Object.create(store);
    watched.readStream = (stream, fromRevision) => (reads.push(stream), store.readStream(stream, fromRevision));
    const streams = new FoldedStreams(watched);
    await decideAndAppend(streams, 'ticket-new', ticket, { issue: 'new' }, commandContext(), { newStream: true });
    expect(reads).toEqual([]);
    const again = await decideAndAppend(streams, 'ticket-new', ticket, { issue: 'new' }, commandContext(), { newStream: true });
    expect(reads).toEqual(['ticket-new']);
    expect(again.events).toEqual([]);
    expect((await store.readStream('ticket-new')).map((e) => e.type)).toEqual(['TicketIssued']);
  });

  it('keeps a new stream when asked to (the next step of a flow reads it): then only newer events are read', async () => {
    const store = new MemoryEventStore();
    const from: number[] = [];
    const watched: EventStore = Object.create(store);
    watched.readStream = (stream, fromRevision) => (from.push(fromRevision ?? 0), store.readStream(stream, fromRevision));
    const streams = new FoldedStreams(watched);
    await decideAndAppend(streams, 'ticket-kept', ticket, { issue: 'kept' }, commandContext(), { newStream: true, remember: true });
    expect(await streams.load('ticket-kept', ticket)).toEqual({ state: { issued: true, punchedBy: null }, revision: 0 });
    expect(from).toEqual([1]);
  });

  it('keeps at most its capacity, dropping the least recently used stream', async () => {
    const store = new MemoryEventStore();
    const streams = new FoldedStreams(store, { streams: 2 });
    for (const id of ['a', 'b', 'c']) await decideAndAppend(streams, `ticket-${id}`, ticket, { issue: id }, commandContext());
    for (const id of ['a', 'b', 'a', 'c']) await streams.load(`ticket-${id}`, ticket);
    const from: Record<string, number> = {};
    const watched: EventStore = Object.create(store);
    watched.readStream = (stream, fromRevision) => ((from[stream] = fromRevision ?? 0), store.readStream(stream, fromRevision));
    Object.assign(streams, { store: watched });
    for (const id of ['c', 'a', 'b']) await streams.load(`ticket-${id}`, ticket);
    // 'b' was dropped and is read from its start; the others only past what they had.
    expect(from).toEqual({ 'ticket-a': 1, 'ticket-b': 0, 'ticket-c': 1 });
  });
});
