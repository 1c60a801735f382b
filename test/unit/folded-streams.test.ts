import { join } from 'node:path';
import { commandContext } from '../../src/cqrs/command-context.js';
import { decideAndAppend } from '../../src/cqrs/decide-and-append.js';
import type { Decider } from '../../src/domain/decider.js';
import { FoldedStreams } from '../../src/cqrs/folded-streams.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { sha256 } from '../../src/domain/crypto.js';
import type { GrantEvent } from '../../src/domain/events.js';
import { grantDecider, type GrantCommand, type GrantState } from '../../src/domain/grant.js';
import { entriesOf } from '../../src/domain/grow-only-map.js';
import { ACCOUNT_FAILURE_LIMIT, accountRetryAfter, loginAttemptsDecider } from '../../src/domain/login-attempts.js';
import type { DomainEvent } from '../../src/event-store/event-envelope.js';
import { MemoryEventStore } from '../../src/event-store/memory-event-store.js';
import type { SnapshotStore } from '../../src/snapshots/snapshot-store.js';
import { SqliteSnapshotStore } from '../../src/snapshots/sqlite-snapshot-store.js';
import { anEvent } from '../support/events.js';

/** A counter whose state is the sum of what was added: enough to see where folding started. */
const counter = (kind: string): Decider<{ add: number }, { total: number; events: number }, DomainEvent> => ({
  initialState: { total: 0, events: 0 },
  evolve: (state, event) => ({ total: state.total + Number(event.data.add), events: state.events + 1 }),
  decide: (command) => [{ type: 'Added', data: { add: command.add } }],
  snapshot: { kind, encode: (state) => state, decode: (data) => data as { total: number; events: number } },
});

/** The store, recording from which revision each stream read started. */
class WatchedStore extends MemoryEventStore {
  readonly readsFrom: number[] = [];
  override readStream(stream: string, fromRevision?: number) {
    this.readsFrom.push(fromRevision ?? 0);
    return super.readStream(stream, fromRevision);
  }
}

async function storeWith(count: number): Promise<WatchedStore> {
  const store = new WatchedStore();
  for (let i = 0; i < count; i += 50) {
    await store.append('count-1', Array.from({ length: Math.min(50, count - i) }, () => anEvent('Added', { add: 2 })), i === 0 ? 'no_stream' : i - 1);
  }
  return store;
}

describe('folded streams with snapshots', () => {
  const dir = tempDir();
  const stores: SnapshotStore[] = [];
  const snapshotStore = () => {
    const store = new SqliteSnapshotStore(join(dir.path, `${Math.random()}.sqlite`));
    stores.push(store);
    return store;
  };
  afterAll(() => {
    for (const store of stores) store.close();
    dir.remove();
  });

  it('reads a long stream once from its start, then from its snapshot, to the same state', async () => {
    const store = await storeWith(250);
    const snapshots = snapshotStore();
    const decider = counter('count/1');
    expect((await new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 100 }).load('count-1', decider)).state).toEqual({ total: 500, events: 250 });
    expect(await snapshots.get('count-1')).toMatchObject({ kind: 'count/1', revision: 249, state: { total: 500, events: 250 } });

    await store.append('count-1', [anEvent('Added', { add: 5 })], 249);
    store.readsFrom.length = 0;
    // Nothing cached (a restart, or evicted): the snapshot's event on, not 251 events.
    const cold = await new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 100 }).load('count-1', decider);
    expect(cold).toEqual({ state: { total: 505, events: 251 }, revision: 250 });
    expect(store.readsFrom).toEqual([249]);
  });

  it('leaves a snapshot after a load that read many events, never on a hot stream\'s commands', async () => {
    const store = await storeWith(10);
    const snapshots = snapshotStore();
    const streams = new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 100 });
    const decider = counter('count/1');
    for (let i = 0; i < 120; i++) await decideAndAppend(streams, 'count-1', decider, { add: 1 }, commandContext());
    // Served from the cache all along: no command paid for a snapshot.
    expect(await snapshots.get('count-1')).toBeUndefined();

    expect((await new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 100 }).load('count-1', decider)).state).toEqual({ total: 140, events: 130 });
    const [last] = await store.readStream('count-1', 129);
    expect(await snapshots.get('count-1')).toMatchObject({ revision: 129, eventId: last.id, state: { total: 140, events: 130 } });
    // A load that reads fewer than `every` events leaves the snapshot as it is.
    await decideAndAppend(streams, 'count-1', decider, { add: 1 }, commandContext());
    await new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 100 }).load('count-1', decider);
    expect((await snapshots.get('count-1'))?.revision).toBe(129);
  });

  it('ignores a snapshot of another kind, one the stream no longer matches, and one it cannot read', async () => {
    const snapshots = snapshotStore();
    await new FoldedStreams(await storeWith(250), { streams: 10 }, { store: snapshots, every: 100 }).load('count-1', counter('count/1'));

    // The rule changed: its kind did too.
    const store = await storeWith(250);
    expect((await new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 1000 }).load('count-1', counter('count/2'))).state.events).toBe(250);
    expect(store.readsFrom).toEqual([0]);

    // Another store (a restored backup, say): the same revisions, other events.
    const other = await storeWith(250);
    expect((await new FoldedStreams(other, { streams: 10 }, { store: snapshots, every: 100 }).load('count-1', counter('count/1'))).state.events).toBe(250);
    expect(other.readsFrom).toEqual([249, 0]);
    // ...and the snapshot now names this store's event.
    expect((await snapshots.get('count-1'))?.eventId).toBe((await other.readStream('count-1', 249))[0].id);

    const broken: SnapshotStore = {
      get: async () => {
        throw new Error('disk I/O error');
      },
      put: async () => {
        throw new Error('database or disk is full');
      },
      close: async () => {},
    };
    const streams = new FoldedStreams(await storeWith(250), { streams: 10 }, { store: broken, every: 100 });
    expect((await streams.load('count-1', counter('count/1'))).state).toEqual({ total: 500, events: 250 });
    await expect(decideAndAppend(streams, 'count-1', counter('count/1'), { add: 1 }, commandContext())).resolves.toMatchObject({ state: { total: 501 } });
  });

  it('reads a username\'s long run of failed sign-ins from its snapshot', async () => {
    const store = new WatchedStore();
    const t0 = Date.parse('2026-11-22T10:00:00.000Z');
    const failures = Array.from({ length: 1000 }, (_, i) =>
      anEvent('LoginFailed', { username: 'alice', address: '192.0.2.1', reason: 'bad_credentials', at: new Date(t0 + i * 1000).toISOString() }));
    await store.append('login-x', failures, 'no_stream');
    const snapshots = snapshotStore();
    const first = await new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 100 }).load('login-x', loginAttemptsDecider);
    store.readsFrom.length = 0;
    const cold = await new FoldedStreams(store, { streams: 10 }, { store: snapshots, every: 100 }).load('login-x', loginAttemptsDecider);
    expect(store.readsFrom).toEqual([999]);
    expect(cold).toEqual(first);
    expect(accountRetryAfter(cold.state, '192.0.2.1', new Date(t0 + 1000 * 1000))).toBe(accountRetryAfter(first.state, '192.0.2.1', new Date(t0 + 1000 * 1000)));
    expect(cold.state.failures).toHaveLength(ACCOUNT_FAILURE_LIMIT);
  });

  it('gives back a grant state that decides as the one it was taken from', () => {
    const t0 = Date.parse('2026-11-22T10:00:00.000Z');
    const at = (seconds: number) => new Date(t0 + seconds * 1000);
    const events: GrantEvent[] = [
      { type: 'AuthorizationRequested', data: { grantId: 'g1', clientId: 'app', redirectUri: 'https://app.example/cb', redirectUriSent: true, scopes: ['profile'], state: null, codeChallenge: sha256('v'), codeChallengeMethod: 'S256', browserSessionHash: sha256('b'), expiresAt: at(600).toISOString() } },
      { type: 'UserAuthenticated', data: { grantId: 'g1', userId: 'u1', username: 'alice', method: 'password' } },
      { type: 'ConsentGranted', data: { grantId: 'g1', userId: 'u1', clientId: 'app', scopes: ['profile'] } },
      { type: 'AuthorizationCodeIssued', data: { grantId: 'g1', codeHash: sha256('g1.code'), expiresAt: at(60).toISOString() } },
      { type: 'AuthorizationCodeRedeemed', data: { grantId: 'g1', clientId: 'app' } },
      { type: 'RefreshTokenIssued', data: { grantId: 'g1', tokenHash: sha256('g1.r0'), expiresAt: at(86_400).toISOString() } },
    ];
    let state: GrantState = events.reduce(grantDecider.evolve, grantDecider.initialState);
    const refresh = (i: number, now: Date): GrantCommand => ({
      kind: 'RefreshAccessToken', refreshTokenHash: sha256(`g1.r${i}`), clientId: 'app', scopes: undefined, now,
      token: { jti: `g1.a${i}`, kid: 'k1', defaultAudience: 'https://rs', ttlSeconds: 300 }, refreshToken: { hash: sha256(`g1.r${i + 1}`), ttlSeconds: 86_400 }, idToken: { ttlSeconds: 300, kid: 'k1' },
    });
    for (let i = 0; i < 200; i++) for (const event of grantDecider.decide(refresh(i, at(60 + i * 600)), state)) state = grantDecider.evolve(state, event);
    state = grantDecider.evolve(state, { type: 'TokenRevoked', data: { grantId: 'g1', jti: 'g1.a199', by: 'client:app' } });

    const codec = grantDecider.snapshot!;
    const restored = codec.decode(JSON.parse(JSON.stringify(codec.encode(state))));
    const entries = (s: GrantState) => ({ ...s, spentRefreshTokenHashes: [...entriesOf(s.spentRefreshTokenHashes)], accessTokens: [...entriesOf(s.accessTokens)], revokedAccessTokens: [...entriesOf(s.revokedAccessTokens)] });
    expect(entries(restored)).toEqual(entries(state));
    expect(restored.revokedAccessTokens.size).toBe(1);
    // What the cache weighs it at: a day of spent refresh tokens (144) and more, against 1 for a new grant.
    expect(grantDecider.weigh!(grantDecider.initialState)).toBe(1);
    expect(grantDecider.weigh!(restored)).toBeGreaterThan(144);
    const now = at(60 + 200 * 600);
    for (const command of [refresh(200, now), refresh(190, now), { kind: 'RevokeAccessToken' as const, jti: 'g1.a199', clientId: 'app', by: 'client:app', now }]) {
      const outcome = (s: GrantState) => {
        try {
          return grantDecider.decide(command, s);
        } catch (error) {
          return error;
        }
      };
      expect(outcome(restored)).toEqual(outcome(state));
    }
  });
});

describe('the cache of folded streams', () => {
  /** A counter weighing what it has counted: its states grow as their streams do. */
  const growing: Decider<{ add: number }, { total: number; events: number }, DomainEvent> = { ...counter('count/1'), weigh: (state) => state.total };
  const loaded = async (streams: FoldedStreams, store: WatchedStore, stream: string) => {
    store.readsFrom.length = 0;
    await streams.load(stream, growing);
    return store.readsFrom;
  };

  it('holds states up to a weight, whatever their number, the least recently used going first', async () => {
    const store = new WatchedStore();
    for (const [stream, add] of [['a', 40], ['b', 40], ['c', 30]] as const) await store.append(stream, [anEvent('Added', { add })], 'no_stream');
    const streams = new FoldedStreams(store, { streams: 10, weight: 100 });
    await streams.load('a', growing);
    await streams.load('b', growing);
    expect(streams.held).toEqual({ streams: 2, weight: 80 });
    await streams.load('a', growing);
    // c brings the weight to 110: b, used least recently, goes.
    await streams.load('c', growing);
    expect(streams.held).toEqual({ streams: 2, weight: 70 });
    expect(await loaded(streams, store, 'a')).toEqual([1]);
    expect(await loaded(streams, store, 'b')).toEqual([0]);
  });

  it('does not hold a state heavier than all it may hold: that one is read again instead of pushing out every other', async () => {
    const store = new WatchedStore();
    await store.append('small', [anEvent('Added', { add: 5 })], 'no_stream');
    await store.append('huge', [anEvent('Added', { add: 500 })], 'no_stream');
    const streams = new FoldedStreams(store, { streams: 10, weight: 100 });
    await streams.load('small', growing);
    expect((await streams.load('huge', growing)).state).toEqual({ total: 500, events: 1 });
    expect(streams.held).toEqual({ streams: 1, weight: 5 });
    expect(await loaded(streams, store, 'huge')).toEqual([0]);
    expect(await loaded(streams, store, 'small')).toEqual([1]);
  });
});
