import type { SignInSessionStarted } from '../src/domain/events.js';
import { streams } from '../src/domain/events.js';
import { defineProjection } from './projection.js';
import type { ProjectionStore } from './projection-store.js';

export interface UserSignInSession {
  /** The hash of the browser's cookie that names the session's stream: never the cookie itself. */
  signInSessionId: string;
  authTime: string;
  expiresAt: string;
}

/** The group of one user's sign-in sessions: `entriesIn('sign-in-sessions', userSignInSessions(userId))`. */
export const userSignInSessions = (userId: string) => `user:${userId}`;

/** Every session of the user that has not ended on record, expired ones included (ending those still tidies the record). */
export function signInSessionsOf(readModel: Pick<ProjectionStore, 'entriesIn'>, userId: string): UserSignInSession[] {
  return readModel.entriesIn('sign-in-sessions', userSignInSessions(userId)).map(([, doc]) => doc as UserSignInSession);
}

/** The browsers the user is signed in on now, the most recent sign-in first: what the account page lists. */
export function liveSignInSessionsOf(readModel: Pick<ProjectionStore, 'entriesIn'>, userId: string, now: Date): UserSignInSession[] {
  const at = now.toISOString();
  return signInSessionsOf(readModel, userId)
    .filter((session) => session.expiresAt > at)
    .sort((a, b) => (a.authTime < b.authTime ? 1 : -1));
}

/**
 * Each user's sign-in sessions that have not ended, grouped by user, so that the user can
 * see where they are signed in and end a session from another browser, and disabling a
 * user can end theirs on record. An ended session's document is removed: its history is
 * in its stream.
 */
export const signInSessionsProjection = defineProjection<UserSignInSession>({
  name: 'sign-in-sessions',
  keysOf: (event) => {
    if ((event.type === 'SignInSessionStarted' || event.type === 'SignInSessionEnded') && event.data.userId) {
      return [`${userSignInSessions(String(event.data.userId))}/${streams.signInSessionIdOf(event.stream)}`];
    }
    return [];
  },
  evolve: (_current, event) => {
    if (event.type !== 'SignInSessionStarted') return undefined;
    const { authTime, expiresAt } = event.data as unknown as SignInSessionStarted['data'];
    return { signInSessionId: streams.signInSessionIdOf(event.stream), authTime, expiresAt };
  },
});
