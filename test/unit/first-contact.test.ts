import { EventStoreAccessDeniedError, type EventStore } from '../../src/event-store/event-store.js';
import { reachEventStore } from '../../src/event-store/first-contact.js';
import { followLog } from '../../src/event-store/follow-log.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { waitFor } from '../support/wait-for.js';

/** A store whose head read fails the first `failures` times, as one still starting would. */
function starting(failures: number, error: () => Error = () => new Error('14 UNAVAILABLE: No connection established')): EventStore & { tries: number } {
  const store = {
    tries: 0,
    async headPosition() {
      if (++store.tries <= failures) throw error();
      return 42;
    },
  };
  return store as unknown as EventStore & { tries: number };
}

function recorder() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  return {
    lines,
    error: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'error', message, fields }),
    info: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'info', message, fields }),
  };
}

describe('first contact with the event store', () => {
  it('tries again with growing waits while the store starts, saying so each time, and answers its head', async () => {
    const store = starting(4);
    const log = recorder();
    const waits: number[] = [];
    const head = await reachEventStore(store, log, { firstDelayMs: 100, maxDelayMs: 500, sleep: async (ms) => void waits.push(ms) });
    expect(head).toBe(42);
    expect(waits).toEqual([100, 200, 400, 500]);
    expect(log.lines.map((l) => l.level)).toEqual(['error', 'error', 'error', 'error', 'info']);
    expect(log.lines[0].fields).toMatchObject({ attempt: 1, delayMs: 100, error: expect.stringMatching(/UNAVAILABLE/) });
  });

  it('gives up after its bound with the store\'s own error, so a wrong address still fails the start', async () => {
    const store = starting(100);
    const log = recorder();
    await expect(reachEventStore(store, log, { attempts: 3, sleep: async () => undefined })).rejects.toThrow(/UNAVAILABLE/);
    expect(store.tries).toBe(3);
    expect(log.lines.at(-1)?.message).toMatch(/giving up/);
  });

  it('does not retry a refusal of access, which waiting does not change', async () => {
    const store = starting(100, () => new EventStoreAccessDeniedError('$all'));
    await expect(reachEventStore(store, undefined, { sleep: async () => undefined })).rejects.toBeInstanceOf(EventStoreAccessDeniedError);
    expect(store.tries).toBe(1);
  });

  it('answers at once, quietly, when the store is up', async () => {
    const log = recorder();
    expect(await reachEventStore(starting(0), log)).toBe(42);
    expect(log.lines).toEqual([]);
  });
});

describe('following a log that cannot be read', () => {
  it('logs once when reading starts failing and once when it reads again, and reports why meanwhile', async () => {
    let failing = true;
    let reads = 0;
    const event = { id: 'e1', position: 7 } as RecordedEvent;
    const readAll = async (after: number) => {
      reads++;
      if (failing) throw new Error('access denied to $all');
      return after < 7 ? [event] : [];
    };
    const log = recorder();
    const seen: RecordedEvent[] = [];
    const subscription = followLog(readAll, 0, async (batch) => void seen.push(...batch), undefined, { pollMs: 5, retryMs: 5, log });
    await waitFor(() => reads >= 5, 'several failed reads');
    expect(log.lines.map((l) => l.level)).toEqual(['error']);
    expect(subscription.readFailure?.()).toBe('cannot read the event store: Error: access denied to $all');
    failing = false;
    await waitFor(() => seen.length === 1, 'the event after recovery');
    expect(log.lines.map((l) => l.level)).toEqual(['error', 'info']);
    expect(subscription.readFailure?.()).toBeUndefined();
    await subscription.stop();
  });
});
