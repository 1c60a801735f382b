import { grantsProjection, liveGrantsOf, userGrants } from '../../projections/grants.projection.js';
import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { anEvent } from '../support/events.js';
import { liveAndRebuilt } from '../support/projections.js';

// In the past: a grant never leaves before this process's own clock says it ran out either.
const t0 = Date.parse('2020-01-01T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
let position = 0;
function recorded(time: string, type: string, data: Record<string, unknown>, schemaVersion = 1): RecordedEvent {
  position += 1;
  return { ...anEvent(type, data), schemaVersion, time, stream: `grant-${String(data.grantId)}`, revision: 0, position, hash: '' };
}
const consent = (time: number, grantId: string, userId = 'u1') =>
  recorded(at(time), 'ConsentGranted', { grantId, userId, clientId: 'app', scopes: ['profile'] });
const code = (time: number, grantId: string, expiresIn: number, userId: string | null = 'u1') =>
  recorded(at(time), 'AuthorizationCodeIssued', { grantId, codeHash: 'h'.repeat(43), expiresAt: at(time + expiresIn), ...(userId ? { userId } : {}) }, userId ? 2 : 1);
const accessToken = (time: number, grantId: string, expiresIn: number) =>
  recorded(at(time), 'AccessTokenIssued', {
    grantId, grantType: 'authorization_code', jti: `${grantId}.j${time}`, kid: 'k1', clientId: 'app', userId: 'u1', audience: 'https://rs', scopes: ['profile'],
    issuedAt: at(time), expiresAt: at(time + expiresIn),
  }, 2);
const refreshToken = (time: number, grantId: string, expiresIn: number, userId: string | null = 'u1') =>
  recorded(at(time), 'RefreshTokenIssued', { grantId, tokenHash: 'r'.repeat(43), expiresAt: at(time + expiresIn), ...(userId ? { userId } : {}) }, userId ? 2 : 1);
const revoked = (time: number, grantId: string) =>
  recorded(at(time), 'GrantRevoked', { grantId, reason: 'revoked_by_user', by: 'user:u1', clientId: 'app', userId: 'u1', accessTokensExpireBy: null }, 3);
/** Time passes for a projection only as events arrive: any event of another user will do. */
const later = (time: number) => consent(time, `other-${time}`, 'someone-else');

/** The grants the projection holds for u1 (liveGrantsOf reads them at a time of its own, below). */
const live = (store: MemoryProjectionStore) => store.entriesIn('grants', userGrants('u1')).map(([key]) => key.split('/')[1]).sort();

describe('grants projection', () => {
  it('keeps a grant while its code, an access token or its refresh token can still be used', () => {
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([grantsProjection], store);
    runner.apply([consent(0, 'g1'), code(0, 'g1', 60), consent(0, 'g2'), code(0, 'g2', 60)]);
    // g2's code is redeemed for a ten-minute access token and a refresh token of a day.
    runner.apply([accessToken(10, 'g2', 600), refreshToken(10, 'g2', 86_400)]);
    expect(live(store)).toEqual(['g1', 'g2']);
    // g1's code was never redeemed: the grant ran out with it.
    runner.apply([later(61)]);
    expect(live(store)).toEqual(['g2']);
    // g2 is refreshed an hour later: a new day from then.
    runner.apply([refreshToken(3_600, 'g2', 86_400), accessToken(3_600, 'g2', 600)]);
    expect(store.get('grants', 'user:u1/g2')).toMatchObject({ aliveUntil: at(3_600 + 86_400) });
    runner.apply([later(3_600 + 86_399)]);
    expect(live(store)).toEqual(['g2']);
    runner.apply([later(3_600 + 86_401)]);
    expect(live(store)).toEqual([]);
  });

  it('answers which grants live at any time, before a later event has dropped those that ran out', () => {
    const store = new MemoryProjectionStore();
    new ProjectionRunner([grantsProjection], store).apply([consent(0, 'g8'), code(0, 'g8', 60), accessToken(10, 'g8', 600)]);
    const liveAt = (seconds: number) => liveGrantsOf(store, 'u1', new Date(at(seconds))).map((grant) => grant.grantId);
    expect(liveAt(609)).toEqual(['g8']);
    // No event since: the document is still held, but the grant no longer lives.
    expect(live(store)).toEqual(['g8']);
    expect(liveAt(610)).toEqual([]);
  });

  it('drops a revoked grant at once', () => {
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([grantsProjection], store);
    runner.apply([consent(0, 'g3'), code(0, 'g3', 60), accessToken(10, 'g3', 600), refreshToken(10, 'g3', 86_400)]);
    runner.apply([revoked(20, 'g3')]);
    expect(live(store)).toEqual([]);
    expect(store.entries('grants').filter(([key]) => key.startsWith('user:u1/'))).toEqual([]);
  });

  it('keeps a grant whose code and refresh token did not name the user: its access token alone would end it too soon', () => {
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([grantsProjection], store);
    runner.apply([consent(0, 'g4'), code(0, 'g4', 60, null), accessToken(10, 'g4', 600), refreshToken(10, 'g4', 86_400, null)]);
    runner.apply([later(1_000_000)]);
    expect(live(store)).toEqual(['g4']);
    // Refreshed since: the refresh token names the user, and the grant's life is known from then on.
    runner.apply([refreshToken(1_000_000, 'g4', 86_400), accessToken(1_000_000, 'g4', 600)]);
    runner.apply([later(1_000_000 + 86_401)]);
    expect(live(store)).toEqual([]);
  });

  it('comes out the same rebuilt from the store as applied live', async () => {
    const events = [consent(0, 'g5'), code(0, 'g5', 60), consent(5, 'g6'), code(5, 'g6', 60), accessToken(10, 'g6', 600), refreshToken(10, 'g6', 86_400), later(100), consent(200, 'g7'), code(200, 'g7', 60)];
    const { live: documents, rebuilt } = await liveAndRebuilt(grantsProjection, events);
    expect(rebuilt).toEqual(documents);
    expect(documents.map(([key]) => key).filter((key) => key.startsWith('user:u1/'))).toEqual(['user:u1/g6', 'user:u1/g7']);
  });
});
