import { join } from 'node:path';
import { MemoryProjectionStore, type ProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { SqliteProjectionStore } from '../../projections/sqlite-projection-store.js';
import { isRevoked, tokenStatusKey, tokenStatusProjection, type TokenStatusDocument } from '../../projections/token-status.projection.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { anEvent } from '../support/events.js';
import { liveAndRebuilt } from '../support/projections.js';

const dir = tempDir();
afterAll(() => dir.remove());

// In the past: a revocation is never forgotten before this process's own clock says so either.
const t0 = Date.parse('2020-01-01T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
let position = 0;
function recorded(time: string, type: string, data: Record<string, unknown>, schemaVersion?: number): RecordedEvent {
  position += 1;
  const event = anEvent(type, data);
  return { ...event, schemaVersion: schemaVersion ?? event.schemaVersion, time, stream: `grant-${String(data.grantId ?? 'x')}`, revision: 0, position, hash: '' };
}
const tokenRevoked = (time: string, jti: string, expiresAt?: string) =>
  recorded(time, 'TokenRevoked', { grantId: jti.split('.')[0], jti, by: 'client:app', ...(expiresAt ? { expiresAt } : {}) }, expiresAt ? 2 : 1);
const grantRevoked = (time: string, grantId: string, accessTokensExpireBy?: string | null) =>
  recorded(time, 'GrantRevoked', { grantId, reason: 'revoked_by_user', by: 'user:u1', clientId: 'app', userId: 'u1', ...(accessTokensExpireBy !== undefined ? { accessTokensExpireBy } : {}) }, accessTokensExpireBy !== undefined ? 3 : 2);
/** Any later event: time passes for the projection only as events arrive. */
const later = (time: string) => recorded(time, 'AccessTokenIssued', { grantId: 'other' });

const revoked = (store: ProjectionStore, jti: string) => isRevoked((key) => store.get<TokenStatusDocument>('token-status', key), jti, jti.split('.')[0]);

describe.each<[string, () => ProjectionStore]>([
  ['memory', () => new MemoryProjectionStore()],
  ['sqlite', () => new SqliteProjectionStore(join(dir.path, `${Math.random()}.sqlite`))],
])('token-status on the %s projection store', (_name, makeStore) => {
  it('forgets a revoked token five minutes after it expires, judged by the times of the events that follow', () => {
    const store = makeStore();
    const runner = new ProjectionRunner([tokenStatusProjection], store);
    runner.apply([tokenRevoked(at(0), 'g1.j1', at(600))]);
    expect(revoked(store, 'g1.j1')).toBe(true);
    // The resource server accepts a token 30 s past its exp, and clocks differ: five minutes more.
    runner.apply([later(at(600 + 299))]);
    expect(revoked(store, 'g1.j1')).toBe(true);
    runner.apply([later(at(600 + 301))]);
    expect(revoked(store, 'g1.j1')).toBe(false);
    expect(store.entries('token-status')).toEqual([]);
  });

  it('forgets a revoked grant once its last access token has expired, and records none for a grant that issued none', () => {
    const store = makeStore();
    const runner = new ProjectionRunner([tokenStatusProjection], store);
    runner.apply([grantRevoked(at(0), 'g2', at(900)), grantRevoked(at(0), 'g3', null)]);
    expect(revoked(store, 'g2.j9')).toBe(true);
    expect(store.get('token-status', tokenStatusKey.grant('g3'))).toBeUndefined();
    runner.apply([later(at(1000))]);
    expect(revoked(store, 'g2.j9')).toBe(true);
    runner.apply([later(at(1201))]);
    expect(revoked(store, 'g2.j9')).toBe(false);
  });

  it('keeps revocations whose events did not say when their tokens expire, and disabled clients', () => {
    const store = makeStore();
    const runner = new ProjectionRunner([tokenStatusProjection], store);
    runner.apply([tokenRevoked(at(0), 'g4.j1'), grantRevoked(at(0), 'g5'), recorded(at(0), 'ClientDisabled', { clientId: 'app' })]);
    runner.apply([later(at(10 * 365 * 86_400))]);
    expect(revoked(store, 'g4.j1')).toBe(true);
    expect(revoked(store, 'g5.j1')).toBe(true);
    expect(store.get('token-status', tokenStatusKey.client('app'))).toEqual({ disabled: true, disabledAt: at(0) });
  });

  it('forgets nothing that has not expired by its own clock, whatever time an event claims', () => {
    const store = makeStore();
    const runner = new ProjectionRunner([tokenStatusProjection], store);
    const soon = new Date(Date.now() + 60_000).toISOString();
    runner.apply([tokenRevoked(at(0), 'g12.j1', soon)]);
    // An event from an instance whose clock jumped a year ahead.
    runner.apply([later(new Date(Date.now() + 365 * 86_400_000).toISOString())]);
    expect(revoked(store, 'g12.j1')).toBe(true);
  });

  it('sweeps what a store kept from before a restart', () => {
    const store = makeStore();
    new ProjectionRunner([tokenStatusProjection], store).apply([tokenRevoked(at(0), 'g6.j1', at(60))]);
    // A new process over the same store: the runner learns what expires from the store itself.
    const restarted = new ProjectionRunner([tokenStatusProjection], store);
    restarted.apply([later(at(60 + 301))]);
    expect(revoked(store, 'g6.j1')).toBe(false);
  });
});

it('comes out the same rebuilt from the store in one batch as applied live one event at a time, whatever order the times come in', async () => {
  const events = [
    tokenRevoked(at(0), 'g7.j1', at(100)),
    grantRevoked(at(10), 'g8', at(2000)),
    later(at(500)),
    tokenRevoked(at(600), 'g9.j1', at(1200)),
    grantRevoked(at(700), 'g10'),
    later(at(1600)),
    // Written by another instance whose clock is behind: a later position, an earlier time.
    tokenRevoked(at(1100), 'g11.j1', at(1250)),
  ];
  const { live, rebuilt } = await liveAndRebuilt(tokenStatusProjection, events);
  expect(rebuilt).toEqual(live);
  expect(live.map(([key]) => key).sort()).toEqual([tokenStatusKey.grant('g10'), tokenStatusKey.grant('g8')]);
});
