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
 */
export async function stillSignedIn(ports: { streams: FoldedStreams; readModel: ReadModel }, signedIn: SignedIn, now: Date): Promise<boolean> {
  if (signedIn.signInSessionId) return (await userOfSignInSession(ports, signedIn.signInSessionId, now))?.userId === signedIn.userId;
  // Sign-in sessions turned off: the password was typed for this authorization alone, in
  // this browser session (which a sign-out replaces), so only the account can have changed.
  const document = ports.readModel.userById(signedIn.userId);
  return document !== undefined && !document.disabled;
}
