import type { CommandContext } from '../cqrs/command-context.js';
import { decideAndAppend } from '../cqrs/decide-and-append.js';
import { randomToken, sha256 } from '../domain/crypto.js';
import { streams } from '../domain/events.js';
import { signInSessionDecider, type SignInSessionCommand, type SignInSessionState } from '../domain/sign-in-session.js';
import type { Ports } from './ports.js';
import { deciderHandler, StreamCommand } from './stream-command.js';

export class EndSignInSession extends StreamCommand<SignInSessionCommand, SignInSessionState> {
  constructor(signInSessionId: string, reason: 'signed_out' | 'replaced', context: CommandContext) {
    super(streams.signInSession(signInSessionId), { kind: 'EndSignInSession', reason }, context);
  }
}

/**
 * After a password sign-in: a new sign-in session under a new random cookie value (never
 * the one the browser came with, against session fixation), which ends the one it replaces.
 * Returns the cookie value, or undefined when sign-in sessions are turned off (TTL 0).
 */
export async function startSignInSession(
  ports: Pick<Ports, 'streams' | 'config'>,
  user: { userId: string; username: string },
  grantId: string | null,
  replaces: string | undefined,
  context: CommandContext,
): Promise<string | undefined> {
  const ttlSeconds = ports.config.signInSessionTtlSeconds;
  if (ttlSeconds === 0) return undefined;
  const cookie = randomToken(32);
  const command: SignInSessionCommand = { kind: 'StartSignInSession', ...user, grantId, now: context.now, ttlSeconds };
  await decideAndAppend(ports.streams, streams.signInSession(sha256(cookie)), signInSessionDecider, command, context, { newStream: true });
  if (replaces) await decideAndAppend(ports.streams, streams.signInSession(replaces), signInSessionDecider, { kind: 'EndSignInSession', reason: 'replaced' }, context);
  return cookie;
}

export const signInSessionHandlers = [deciderHandler(EndSignInSession, signInSessionDecider)];
