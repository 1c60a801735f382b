import { backChannelLogoutsProjection, pendingBackChannelLogoutsIn } from '../../projections/back-channel-logouts.projection.js';
import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { backChannelLogoutDecider } from '../../src/domain/back-channel-logout.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { anEvent } from '../support/events.js';
import { given } from '../support/given-when-then.js';
import { liveAndRebuilt } from '../support/projections.js';

const t0 = Date.parse('2026-11-22T10:00:00.000Z');
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
let position = 0;
const recorded = (stream: string, type: string, data: Record<string, unknown>, seconds: number): RecordedEvent => {
  position += 1;
  return { ...anEvent(type, data), time: at(seconds), stream, revision: 0, position, hash: '' };
};
const started = (sid: string) => recorded(`session-${sid}`, 'SignInSessionStarted', { userId: 'u1', username: 'alice', grantId: null, authTime: at(0), expiresAt: at(28_800) }, 0);
const idToken = (sid: string, clientId: string, seconds: number) =>
  recorded(`grant-g${seconds}`, 'IdTokenIssued', { grantId: `g${seconds}`, jti: `j${seconds}`, clientId, userId: 'u1', kid: 'k', signInSessionId: sid, issuedAt: at(seconds), expiresAt: at(seconds + 3600) }, seconds);
const ended = (sid: string, seconds: number) => recorded(`session-${sid}`, 'SignInSessionEnded', { userId: 'u1', reason: 'signed_out' }, seconds);
const delivered = (sid: string, clientId: string, seconds: number) =>
  recorded(`logout-${sid}`, 'BackChannelLogoutDelivered', { signInSessionId: sid, clientId, userId: 'u1', attempts: 1, jti: 'x' }, seconds);

describe('back-channel logouts owed', () => {
  it('are the clients that got an ID token in a session that ended, until each outcome is on record', async () => {
    const events = [started('s1'), idToken('s1', 'a', 10), idToken('s1', 'b', 20), idToken('s1', 'a', 30), started('s2'), idToken('s2', 'a', 40)];
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([backChannelLogoutsProjection], store);
    runner.apply(events);
    expect(pendingBackChannelLogoutsIn(store)).toEqual([]);
    runner.apply([ended('s1', 50)]);
    expect(pendingBackChannelLogoutsIn(store)).toEqual([
      { signInSessionId: 's1', userId: 'u1', clientId: 'a', endedAt: at(50) },
      { signInSessionId: 's1', userId: 'u1', clientId: 'b', endedAt: at(50) },
    ]);
    runner.apply([delivered('s1', 'a', 60)]);
    expect(pendingBackChannelLogoutsIn(store).map((p) => p.clientId)).toEqual(['b']);
    runner.apply([delivered('s1', 'b', 70)]);
    // Everyone told: the session's document is gone; the live session s2 owes nothing yet.
    expect(store.get('back-channel-logouts', 's1')).toBeUndefined();
    expect(pendingBackChannelLogoutsIn(store)).toEqual([]);
    const { live, rebuilt } = await liveAndRebuilt(backChannelLogoutsProjection, [...events, ended('s1', 50), delivered('s1', 'a', 60)]);
    expect(rebuilt).toEqual(live);
  });

  it('keeps nothing for a session that ended with no ID token in it', () => {
    const store = new MemoryProjectionStore();
    new ProjectionRunner([backChannelLogoutsProjection], store).apply([started('s3'), ended('s3', 10)]);
    expect(store.get('back-channel-logouts', 's3')).toBeUndefined();
  });

  it('records each client\'s outcome once, whoever records it again', () => {
    const command = { kind: 'RecordBackChannelLogoutDelivered' as const, signInSessionId: 's1', clientId: 'a', userId: 'u1', attempts: 2, jti: 'j' };
    given(backChannelLogoutDecider, []).when(command).then([{ type: 'BackChannelLogoutDelivered', data: { signInSessionId: 's1', clientId: 'a', userId: 'u1', attempts: 2, jti: 'j' } }]);
    given(backChannelLogoutDecider, [{ type: 'BackChannelLogoutDelivered', data: { signInSessionId: 's1', clientId: 'a', userId: 'u1', attempts: 2, jti: 'j' } }]).when(command).then([]);
    given(backChannelLogoutDecider, [{ type: 'BackChannelLogoutFailed', data: { signInSessionId: 's1', clientId: 'b', userId: 'u1', attempts: 6, lastError: 'HTTP 503' } }]).when(command).then([
      { type: 'BackChannelLogoutDelivered', data: { signInSessionId: 's1', clientId: 'a', userId: 'u1', attempts: 2, jti: 'j' } },
    ]);
  });
});
