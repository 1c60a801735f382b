import type { Decider } from './decider.js';
import type { SignInSessionEndReason, SignInSessionEvent } from './events.js';
import { InvalidRequest } from './oauth-errors.js';

/**
 * A browser's sign-in session (single sign-on across authorization requests): started by
 * a password sign-in, it lets later authorizations skip the password until it expires, the
 * user signs out, or the client asks for a fresh sign-in (prompt=login, max_age).
 * Its stream is named by the hash of the cookie, so only that browser can find it.
 */
export type SignInSessionCommand =
  | { kind: 'StartSignInSession'; userId: string; username: string; grantId: string | null; now: Date; ttlSeconds: number }
  | {
      kind: 'EndSignInSession';
      reason: SignInSessionEndReason;
      /** Set when the session is ended from outside its browser: only its own user may. */
      byUserId?: string;
    };

export interface SignInSessionState {
  status: 'none' | 'active' | 'ended';
  userId: string | null;
  username: string | null;
  /** When the password was given: what max_age is measured against. */
  authTime: string | null;
  expiresAt: string | null;
}

export interface SignedInUser {
  userId: string;
  username: string;
  authTime: string;
}

export const signInSessionDecider: Decider<SignInSessionCommand, SignInSessionState, SignInSessionEvent> = {
  initialState: { status: 'none', userId: null, username: null, authTime: null, expiresAt: null },
  evolve(state, event) {
    if (event.type === 'SignInSessionEnded') return { ...state, status: 'ended' };
    const { userId, username, authTime, expiresAt } = event.data;
    return { status: 'active', userId, username, authTime, expiresAt };
  },
  decide(command, state) {
    if (command.kind === 'StartSignInSession') {
      // The stream is named by a new random cookie: an existing one means a collision or a bug.
      if (state.status !== 'none') throw new InvalidRequest('this sign-in session already exists');
      const expiresAt = new Date(command.now.getTime() + command.ttlSeconds * 1000).toISOString();
      const data = { userId: command.userId, username: command.username, grantId: command.grantId, authTime: command.now.toISOString(), expiresAt };
      return [{ type: 'SignInSessionStarted', data }];
    }
    // The same answer for a session of someone else as for one that never was: its id tells nothing.
    if (command.byUserId !== undefined && state.userId !== command.byUserId) throw new InvalidRequest('no such sign-in session');
    return state.status === 'active' ? [{ type: 'SignInSessionEnded', data: { userId: state.userId!, reason: command.reason } }] : [];
  },
};

/** Who this session signs in now, or undefined: ended, expired, or older than maxAgeSeconds allows. */
export function signedInUser(state: SignInSessionState, now: Date, maxAgeSeconds?: number): SignedInUser | undefined {
  if (state.status !== 'active' || !state.userId || !state.username || !state.authTime || !state.expiresAt) return undefined;
  const at = now.toISOString();
  if (at >= state.expiresAt) return undefined;
  if (maxAgeSeconds !== undefined && now.getTime() - Date.parse(state.authTime) > maxAgeSeconds * 1000) return undefined;
  return { userId: state.userId, username: state.username, authTime: state.authTime };
}
