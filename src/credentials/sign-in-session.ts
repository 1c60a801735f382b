import { userKey, type UserDocument } from '../../projections/users.projection.js';
import type { Ports } from '../commands/ports.js';
import { streams } from '../domain/events.js';
import { signedInUser, signInSessionDecider, type SignedInUser } from '../domain/sign-in-session.js';

/**
 * The user a browser's sign-in session signs in now, read from the session's own stream
 * (authoritative: a sign-out is seen at once). A user disabled since is signed in no more.
 */
export async function userOfSignInSession(
  ports: Pick<Ports, 'streams' | 'readModel'>,
  signInSessionId: string,
  now: Date,
  maxAgeSeconds?: number,
): Promise<SignedInUser | undefined> {
  const { state } = await ports.streams.load(streams.signInSession(signInSessionId), signInSessionDecider);
  const user = signedInUser(state, now, maxAgeSeconds);
  if (!user) return undefined;
  const document = ports.readModel.get<UserDocument>('users', userKey.byId(user.userId));
  return document && !document.disabled ? user : undefined;
}
