import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { liveSignInSessionsOf, signInSessionsOf, signInSessionsProjection } from '../../projections/sign-in-sessions.projection.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { anEvent } from '../support/events.js';

let position = 0;
function recorded(stream: string, type: string, data: Record<string, unknown>): RecordedEvent {
  position += 1;
  return { ...anEvent(type, data), stream, revision: 0, position, hash: '' };
}
const started = (id: string, userId: string, authTime: string, expiresAt: string) =>
  recorded(`session-${id}`, 'SignInSessionStarted', { userId, username: userId, grantId: null, authTime, expiresAt });
const ended = (id: string, userId: string) => recorded(`session-${id}`, 'SignInSessionEnded', { userId, reason: 'signed_out' });

describe('sign-in sessions projection', () => {
  it('keeps each user\'s sessions that have not ended, and lists the live ones newest first', () => {
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([signInSessionsProjection], store);
    runner.apply([
      started('a', 'u1', '2026-11-22T10:00:00.000Z', '2026-11-22T20:00:00.000Z'),
      started('b', 'u1', '2026-11-22T11:00:00.000Z', '2026-11-22T21:00:00.000Z'),
      started('c', 'u1', '2026-11-22T09:00:00.000Z', '2026-11-22T10:30:00.000Z'),
      started('d', 'u10', '2026-11-22T11:00:00.000Z', '2026-11-22T21:00:00.000Z'),
      recorded('user-u1', 'UserRegistered', { userId: 'u1' }),
    ]);
    const at = new Date('2026-11-22T12:00:00.000Z');
    expect(liveSignInSessionsOf(store, 'u1', at)).toEqual([
      { signInSessionId: 'b', authTime: '2026-11-22T11:00:00.000Z', expiresAt: '2026-11-22T21:00:00.000Z' },
      { signInSessionId: 'a', authTime: '2026-11-22T10:00:00.000Z', expiresAt: '2026-11-22T20:00:00.000Z' },
    ]);
    // The expired one is not live, but it has not ended on record: disabling the user still ends it.
    expect(signInSessionsOf(store, 'u1').map((s) => s.signInSessionId).sort()).toEqual(['a', 'b', 'c']);

    runner.apply([ended('a', 'u1'), ended('c', 'u1')]);
    expect(signInSessionsOf(store, 'u1').map((s) => s.signInSessionId)).toEqual(['b']);
    expect(signInSessionsOf(store, 'u10').map((s) => s.signInSessionId)).toEqual(['d']);
    expect(signInSessionsOf(store, 'nobody')).toEqual([]);
  });
});
