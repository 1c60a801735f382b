import type { FoldedStreams } from '../cqrs/folded-streams.js';
import type { ReadModel } from '../read-model/read-model.js';
import { streams } from '../domain/events.js';
import type { SignedIn } from '../domain/grant.js';
import { signedInUser, signInSessionDecider, type SignedInUser } from '../domain/sign-in-session.js';

/**
 * The user a browser's sign-in session signs in now, read from the session's own stream
 * (authoritative: a sign-out is seen at once). A user disabled since is signed in no more.
 */
export async function userOfSignInSession(
  ports: { streams: FoldedStreams; readModel: ReadModel },
  signInSessionId: string,
  now: Date,
  maxAgeSeconds?: number,
): Promise<SignedInUser | undefined> {
  const { state } = await ports.streams.load(streams.signInSession(signInSessionId), signInSessionDecider);
  const user = signedInUser(state, now, maxAgeSeconds);
  if (!user) return undefined;
  const document = ports.readModel.userById(user.userId);
  return document && !document.disabled ? user : undefined;
}

/**
 * Whether whoever signed in for a held authorization is signed in still: their sign-in
 * session not ended (signed out here or elsewhere, replaced, user disabled) nor expired,
 * and their account enabled. A consent page left open past a sign-out gives no code.
 *
 * Asked of the read side first (no read of the store on the consent page's every step);
 * a "no" there is confirmed in the session's own stream, since the read side may not have
 * folded a session started a moment ago. The read side is a tick behind the store on this
 * instance and a poll interval on the others: a consent posted within that moment of a
 * sign-out elsewhere can still pass, which the review's threat (the next person at a
 * shared computer) never does.
 */
export async function stillSignedIn(ports: { streams: FoldedStreams; readModel: ReadModel }, signedIn: SignedIn, now: Date): Promise<boolean> {
  const user = ports.readModel.userById(signedIn.userId);
  if (!user || user.disabled) return false;
  // Sign-in sessions turned off: the password was typed for this authorization alone, in
  // this browser session (which a sign-out replaces), so only the account can have changed.
  if (!signedIn.signInSessionId) return true;
  const sessionId = signedIn.signInSessionId;
  if (ports.readModel.liveSignInSessionsOf(signedIn.userId, now).some((session) => session.signInSessionId === sessionId)) return true;
  return (await userOfSignInSession(ports, sessionId, now))?.userId === signedIn.userId;
}
