import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { ProjectionRunner, rebuildProjection } from '../../projections/projection-runner.js';
import { liveSignInSessionsOf, signInSessionsOf, signInSessionsProjection } from '../../projections/sign-in-sessions.projection.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { MemoryEventStore } from '../../src/event-store/memory-event-store.js';
import { anEvent } from '../support/events.js';

let position = 0;
function recorded(stream: string, type: string, data: Record<string, unknown>): RecordedEvent {
  position += 1;
  return { ...anEvent(type, data), stream, revision: 0, position, hash: '' };
}
const started = (id: string, userId: string, authTime: string, expiresAt: string) =>
  recorded(`session-${id}`, 'SignInSessionStarted', { userId, username: userId, grantId: null, authTime, expiresAt });
const ended = (id: string, userId: string) => recorded(`session-${id}`, 'SignInSessionEnded', { userId, reason: 'signed_out' });
const ids = (sessions: Array<{ signInSessionId: string }>) => sessions.map((s) => s.signInSessionId);

describe('sign-in sessions projection', () => {
  it('keeps each user\'s sessions that have not ended, and lists the live ones newest first', () => {
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([signInSessionsProjection], store);
    runner.apply([
      started('a', 'u1', '2026-11-22T10:00:00.000Z', '2026-11-22T20:00:00.000Z'),
      started('b', 'u1', '2026-11-22T11:00:00.000Z', '2026-11-22T12:30:00.000Z'),
      started('d', 'u10', '2026-11-22T11:00:00.000Z', '2026-11-22T21:00:00.000Z'),
      recorded('user-u1', 'UserRegistered', { userId: 'u1' }),
    ]);
    expect(liveSignInSessionsOf(store, 'u1', new Date('2026-11-22T12:00:00.000Z'))).toEqual([
      { signInSessionId: 'b', authTime: '2026-11-22T11:00:00.000Z', expiresAt: '2026-11-22T12:30:00.000Z' },
      { signInSessionId: 'a', authTime: '2026-11-22T10:00:00.000Z', expiresAt: '2026-11-22T20:00:00.000Z' },
    ]);
    // Expired but not ended on record: not live, still there for disabling the user to end.
    expect(ids(liveSignInSessionsOf(store, 'u1', new Date('2026-11-22T13:00:00.000Z')))).toEqual(['a']);
    expect(ids(signInSessionsOf(store, 'u1'))).toEqual(['a', 'b']);

    runner.apply([ended('a', 'u1')]);
    expect(ids(signInSessionsOf(store, 'u1'))).toEqual(['b']);
    expect(ids(signInSessionsOf(store, 'u10'))).toEqual(['d']);
    expect(signInSessionsOf(store, 'nobody')).toEqual([]);
    runner.apply([ended('b', 'u1')]);
    expect(store.get('sign-in-sessions', 'user:u1')).toBeUndefined();
  });

  it('drops the sessions that had expired when the user signs in again, so a user who never signs out keeps only the live ones', async () => {
    const events = new MemoryEventStore();
    const store = new MemoryProjectionStore();
    const runner = new ProjectionRunner([signInSessionsProjection], store);
    const day = (n: number) => `2026-11-${String(n).padStart(2, '0')}T09:00:00.000Z`;
    const signIns = Array.from({ length: 20 }, (_, i) => started(`s${i}`, 'u1', day(i + 1), day(i + 3)));
    runner.apply(signIns);
    // Each sign-in lasts two days: at the last one, only the one before it is still live.
    expect(ids(signInSessionsOf(store, 'u1'))).toEqual(['s18', 's19']);

    // The same list from a rebuild: what is dropped depends on the events, not on the clock.
    for (const event of signIns) await events.append(event.stream, [event], 'no_stream');
    const rebuilt = await rebuildProjection(signInSessionsProjection, events);
    expect(rebuilt.get('sign-in-sessions', 'user:u1')).toEqual(store.get('sign-in-sessions', 'user:u1'));
  });
});
