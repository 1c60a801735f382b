import { AccessDeniedError, EventStoreDBClient, jsonEvent, StreamDeletedError as ClientStreamDeleted } from '@eventstore/db-client';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { loadConfig } from '../../src/config/config.js';
import { AppendTooLargeError, EventStoreAccessDeniedError, StreamDeletedError, type EventStore } from '../../src/event-store/event-store.js';
import { guardBatchAppends, isLateBatchAppendResponse, releaseBatchAppendGuard } from '../../src/event-store/eventstoredb-client.js';
import { connectionStringProblem, forClient62, hostsOf } from '../../src/event-store/eventstoredb-connection-string.js';
import { EventStoreDbEventStore } from '../../src/event-store/eventstoredb-event-store.js';
import { MemoryEventStore } from '../../src/event-store/memory-event-store.js';
import { anEvent } from '../support/events.js';
import { waitFor } from '../support/wait-for.js';

/** One entry of $all as the client gives it: ours (JSON, our metadata) or the server's own. */
function entry(i: number, kind: 'ours' | 'system') {
  const position = { commit: BigInt(5000 + i * 413), prepare: BigInt(5000 + i * 413) };
  const ours = kind === 'ours';
  return {
    event: {
      streamId: ours ? `thing-${i}` : '$stats-127.0.0.1:2113',
      type: ours ? 'Happened' : '$statsCollected',
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      revision: 0n,
      isJson: true,
      data: ours ? { i } : {},
      metadata: ours ? { $correlationId: 'c', $causationId: null, schemaVersion: 1, time: '2026-12-04T00:00:00.000Z', hash: 'h' } : {},
      position,
    },
  };
}

type Entry = ReturnType<typeof entry>;

/** $all in memory, read as the server reads it: from a position inclusive, forwards or backwards. */
function fakeAll(entries: Entry[], fail?: () => Error) {
  return {
    reads: 0,
    readAll({ fromPosition, maxCount, direction }: { fromPosition: 'start' | 'end' | { prepare: bigint }; maxCount: number; direction: string }) {
      this.reads++;
      if (fail) throw fail();
      const ordered = direction === 'backwards' ? [...entries].reverse() : entries;
      const start =
        fromPosition === 'start' || fromPosition === 'end'
          ? 0
          : ordered.findIndex((e) => (direction === 'backwards' ? e.event.position.prepare <= fromPosition.prepare : e.event.position.prepare >= fromPosition.prepare));
      const page = start === -1 ? [] : ordered.slice(start, start + Number(maxCount));
      return (async function* () {
        yield* page;
      })();
    },
    async dispose() {},
  };
}

function storeOver(client: object): EventStoreDbEventStore {
  const store = new EventStoreDbEventStore('esdb://localhost:2113?tls=false', { pollMs: 5, retryMs: 5, log: quiet });
  (store as unknown as { client: object }).client = client;
  return store;
}

const quiet = { error: () => undefined, info: () => undefined };
const systemRun = (from: number, count: number) => Array.from({ length: count }, (_, k) => entry(from + k, 'system'));

describe('EventStoreDB adapter, over a stubbed $all', () => {
  it('reads past a page full of system events between two of ours', async () => {
    const log = [entry(0, 'ours'), ...systemRun(1, 1200), entry(1201, 'ours')];
    const store = storeOver(fakeAll(log));
    const first = await store.readAll(0, 1);
    expect(first.map((e) => e.stream)).toEqual(['thing-0']);
    expect((await store.readAll(first[0].position, 512)).map((e) => e.stream)).toEqual(['thing-1201']);
    await store.close();
  });

  it('gives the head as our newest event, behind a run of system events longer than any one page', async () => {
    const log = [entry(0, 'ours'), entry(1, 'ours'), ...systemRun(2, 600)];
    const store = storeOver(fakeAll(log));
    expect(await store.headPosition()).toBe(5000 + 413);
    const onlySystem = storeOver(fakeAll(systemRun(0, 300)));
    expect(await onlySystem.headPosition()).toBe(0);
    await store.close();
    await onlySystem.close();
  });

  it('counts lag in events, not byte offsets: one event behind is 1', async () => {
    const log = [entry(0, 'ours'), ...systemRun(1, 20), entry(21, 'ours')];
    const store = storeOver(fakeAll(log));
    const [first] = await store.readAll(0, 1);
    expect(await store.countAfter(first.position, 10_000)).toBe(1);
    expect(await store.countAfter(0, 10_000)).toBe(2);
    await store.close();
  });

  it('follows past system events: a follower sees the event after them', async () => {
    const log = [entry(0, 'ours'), ...systemRun(1, 700), entry(701, 'ours')];
    const store = storeOver(fakeAll(log));
    const seen: string[] = [];
    const subscription = store.subscribeAll(0, async (batch) => void seen.push(...batch.map((e) => e.stream)));
    await waitFor(() => seen.length >= 2, 'both events');
    await subscription.stop();
    expect(seen).toEqual(['thing-0', 'thing-701']);
    await store.close();
  });

  it('says once, and in readiness, why it cannot follow when $all is refused (a non-admin user)', async () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const client = fakeAll([], () => new AccessDeniedError(undefined as never));
    const store = new EventStoreDbEventStore('esdb://localhost:2113?tls=false', { pollMs: 5, retryMs: 5, log: { error: (m, f) => lines.push([m, f]), info: (m, f) => lines.push([m, f]) } });
    (store as unknown as { client: object }).client = client;
    const runner = new ProjectionRunner([], new MemoryProjectionStore());
    runner.followStore(store);
    await waitFor(() => client.reads >= 5, 'several tries');
    expect(lines).toHaveLength(1);
    expect(lines[0][0]).toMatch(/cannot read the event store/);
    expect(String(lines[0][1]?.error)).toMatch(/EventStoreAccessDeniedError/);
    expect(runner.stallReport()).toMatch(/^cannot read the event store: EventStoreAccessDeniedError/);
    await runner.stop();
    await store.close();
  });

  it('refuses an append over 1 MiB with a typed error before sending anything', async () => {
    const client = { ...fakeAll([]), appendToStream: jest.fn(), readStream: jest.fn() };
    const store = storeOver(client);
    await expect(store.append('thing-big', [anEvent('Big', { big: 'x'.repeat(1.5 * 1024 * 1024) })], 'no_stream')).rejects.toBeInstanceOf(AppendTooLargeError);
    expect(client.appendToStream).not.toHaveBeenCalled();
    expect(client.readStream).not.toHaveBeenCalled();
    await store.close();
  });

  it('refuses a tombstoned stream and a truncated one instead of reading them as shorter', async () => {
    const tombstoned = {
      ...fakeAll([]),
      readStream: () => (async function* () {
        yield* [];
        throw new ClientStreamDeleted(undefined, 'thing-gone');
      })(),
    };
    const gone = storeOver(tombstoned);
    await expect(gone.readStream('thing-gone')).rejects.toMatchObject({ name: 'StreamDeletedError', how: 'tombstoned' });
    const truncated = { ...fakeAll([]), readStream: () => (async function* () { yield { event: { ...entry(3, 'ours').event, streamId: 'thing-cut', revision: 3n } }; })() };
    const cut = storeOver(truncated);
    await expect(cut.readStream('thing-cut')).rejects.toEqual(new StreamDeletedError('thing-cut', 'truncated'));
    await gone.close();
    await cut.close();
  });
});

describe('lag, for every store', () => {
  it('is what the store counts after the checkpoint, not head minus checkpoint', async () => {
    const memory = new MemoryEventStore();
    const byteOffsets: EventStore = Object.assign(Object.create(memory) as EventStore, { headPosition: async () => 9_000, countAfter: async () => 1 });
    const runner = new ProjectionRunner([], new MemoryProjectionStore());
    runner.followStore(byteOffsets);
    expect(await runner.lag()).toBe(1);
    await runner.stop();
  });

  it('is unchanged on SQLite and memory, whose positions are dense: head minus checkpoint', async () => {
    const memory = new MemoryEventStore();
    await memory.append('thing-1', [anEvent(), anEvent(), anEvent()], 'no_stream');
    expect(await memory.countAfter(1, 10)).toBe(2);
    expect(await memory.countAfter(3, 10)).toBe(0);
  });
});

describe('EventStoreDB connection strings', () => {
  it('takes kurrentdb:// and kurrentdb+discover:// by rewriting them for client 6.2, which refuses them as they are', () => {
    expect(forClient62('kurrentdb://admin:changeit@localhost:2113?tls=false')).toBe('esdb://admin:changeit@localhost:2113?tls=false');
    expect(forClient62('kurrentdb+discover://cluster.example:2113')).toBe('esdb+discover://cluster.example:2113');
    expect(forClient62('esdb://localhost:2113')).toBe('esdb://localhost:2113');
    expect(() => EventStoreDBClient.connectionString('kurrentdb://localhost:2113?tls=false')).toThrow(/esdb/);
    expect(() => EventStoreDBClient.connectionString(forClient62('kurrentdb://localhost:2113?tls=false'))).not.toThrow();
  });

  it('accepts what the client takes, cluster host lists included, and names what it does not, without echoing a password', () => {
    for (const ok of ['esdb://localhost:2113?tls=false', 'esdb://a:2113,b:2113,c:2113?tls=false&nodePreference=leader', 'kurrentdb+discover://admin:changeit@cluster.example:2113']) {
      expect([ok, connectionStringProblem(ok)]).toEqual([ok, undefined]);
      expect(loadConfig({ EVENTSTOREDB_URL: ok }).eventStoreDbUrl).toBe(ok);
    }
    expect(connectionStringProblem('http://localhost:2113')).toMatch(/must be esdb/);
    expect(connectionStringProblem('esdb://localhost:2113?tls=no')).toMatch(/true or false/);
    expect(connectionStringProblem('esdb://localhost:2113?tsl=false')).toMatch(/does not know/);
    expect(() => loadConfig({ EVENTSTOREDB_URL: 'esdb://admin:s3cret@localhost:2113?tls=maybe' })).toThrow(/EVENTSTOREDB_URL/);
    expect(() => loadConfig({ EVENTSTOREDB_URL: 'esdb://admin:s3cret@localhost:2113?tls=maybe' })).not.toThrow(/s3cret/);
    expect(hostsOf('esdb://admin:s3cret@a:2113,b:2113?tls=false')).toBe('a:2113,b:2113');
  });
});

describe('the guard against client 6.2.1\'s late batch-append response', () => {
  const late = () => {
    const error = new TypeError('undefined is not iterable (cannot read property Symbol(Symbol.iterator))');
    error.stack = `${error.message}\n    at ClientDuplexStreamImpl.<anonymous> (/app/node_modules/@eventstore/db-client/dist/streams/appendToStream/batchAppend.js:21:35)`;
    return error;
  };

  it('is the fault client 6.2.1 really has: its own batchAppend, a transport error, then a late answer', async () => {
    // The client's code as installed, over a wire this test holds: no server needed to show the fault.
    const { EventEmitter } = await import('node:events');
    const { batchAppend } = require('@eventstore/db-client/dist/streams/appendToStream/batchAppend') as { batchAppend: (...args: unknown[]) => Promise<unknown> };
    const { createUUID } = require('@eventstore/db-client/dist/utils/grpcUUID') as { createUUID: () => unknown };
    const wire = Object.assign(new EventEmitter(), { write: (_chunk: unknown, done?: () => void) => (done?.(), true) });
    const client = { GRPCStreamCreator: (_c: unknown, _n: unknown, create: (grpc: object) => unknown) => async () => create({ batchAppend: () => wire }), callArguments: () => [], createDeadline: () => new Date(Date.now() + 10_000) };
    const append = batchAppend.call(client, 'thing-1', [jsonEvent({ type: 'A', data: {} })], { expectedRevision: 'any', batchAppendSize: 3 * 1024 * 1024 });
    const failed = expect(append).rejects.toMatchObject({ type: 'unavailable' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    wire.emit('error', Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14 }));
    await failed;
    let thrown: unknown;
    try {
      wire.emit('data', { getCorrelationId: () => createUUID() });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(isLateBatchAppendResponse(thrown)).toBe(true);
  });

  it('recognises that TypeError and nothing else', () => {
    expect(isLateBatchAppendResponse(late())).toBe(true);
    expect(isLateBatchAppendResponse(new TypeError('undefined is not iterable'))).toBe(false);
    expect(isLateBatchAppendResponse(new Error('boom'))).toBe(false);
  });

  it('logs it instead of letting it end the process while an adapter is open, and leaves no listener behind', () => {
    const before = process.listenerCount('unhandledRejection');
    const owner = {};
    const errors: string[] = [];
    guardBatchAppends(owner, { error: (message) => errors.push(message) });
    expect(process.listenerCount('unhandledRejection')).toBe(before + 1);
    const promise = Promise.resolve();
    expect(() => process.emit('unhandledRejection', late(), promise)).not.toThrow();
    expect(errors).toEqual([expect.stringMatching(/batched append answered after its connection failed/)]);
    releaseBatchAppendGuard(owner);
    expect(process.listenerCount('unhandledRejection')).toBe(before);
  });
});

it('maps access refusals to a typed error that first contact does not retry', () => {
  expect(new EventStoreAccessDeniedError('$all').message).toMatch(/read access to \$all/);
});
