import type { UserSignInSession } from '../src/read-model/documents.js';
import { streams } from '../src/domain/events.js';
import { projectionOf } from './projection.js';
import type { ProjectionStore } from './projection-store.js';

export type { UserSignInSession };

/** One user's sign-in sessions that have not ended on record, in the order they started. */
export interface UserSignInSessions {
  sessions: UserSignInSession[];
}

/** The one document of a user's sessions. */
const userSessionsKey = (userId: string) => `user:${userId}`;

/** Every session of the user that has not ended on record, expired ones included (ending those still tidies the record). */
export function signInSessionsOf(readModel: Pick<ProjectionStore, 'get'>, userId: string): UserSignInSession[] {
  return readModel.get<UserSignInSessions>('sign-in-sessions', userSessionsKey(userId))?.sessions ?? [];
}

/** The browsers the user is signed in on now, the most recent sign-in first: what the account page lists. */
export function liveSignInSessionsOf(readModel: Pick<ProjectionStore, 'get'>, userId: string, now: Date): UserSignInSession[] {
  const at = now.toISOString();
  return signInSessionsOf(readModel, userId)
    .filter((session) => session.expiresAt > at)
    .reverse();
}

/**
 * Each user's sign-in sessions that have not ended, so that the user can see where they
 * are signed in and end a session from another browser, and disabling a user can end
 * theirs on record. One document per user: a new sign-in drops the sessions that had
 * expired by then, so a user who never signs out keeps a list of their live sessions,
 * not of every sign-in they ever made. An ended session leaves the list; its history is
 * in its stream.
 */
export const signInSessionsProjection = projectionOf<UserSignInSessions>().folding({
  name: 'sign-in-sessions',
  handles: ['SignInSessionStarted', 'SignInSessionEnded'],
  keysOf: (event) => (event.data.userId ? [userSessionsKey(event.data.userId)] : []),
  evolve: (current, event) => {
    const signInSessionId = streams.signInSessionIdOf(event.stream);
    const others = (current?.sessions ?? []).filter((session) => session.signInSessionId !== signInSessionId);
    if (event.type !== 'SignInSessionStarted') return others.length > 0 ? { sessions: others } : undefined;
    const { authTime, expiresAt } = event.data;
    return { sessions: [...others.filter((session) => session.expiresAt > authTime), { signInSessionId, authTime, expiresAt }] };
  },
});
