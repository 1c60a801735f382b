import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { startCommandBus, PORTS, type CommandBusHandle } from '../../src/cqrs/command-bus.js';
import { commandContext } from '../../src/cqrs/command-context.js';
import { ConcurrencyConflict, decideAndAppend, type Decision } from '../../src/cqrs/decide-and-append.js';
import type { Decider } from '../../src/cqrs/decider.js';
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
  constructor(@Inject(PORTS) private readonly ports: { store: EventStore }) {}
  execute(command: PunchTicket) {
    return decideAndAppend(this.ports.store, `ticket-${command.ticketId}`, ticket, { by: command.by }, commandContext('corr-1'));
  }
}

describe('the shared command path through @nestjs/cqrs', () => {
  let store: MemoryEventStore;
  let bus: CommandBusHandle;
  beforeEach(async () => {
    store = new MemoryEventStore();
    bus = await startCommandBus({ store }, [PunchTicketHandler]);
    await decideAndAppend(store, 'ticket-t1', ticket, { issue: 't1' }, commandContext());
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
    await expect(decideAndAppend(racing, 'ticket-t1', punchy, { by: 'x' }, commandContext(), 2)).rejects.toBeInstanceOf(ConcurrencyConflict);
  });
});
