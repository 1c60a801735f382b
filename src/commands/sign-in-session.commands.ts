import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { UserDocument } from '../read-model/documents.js';
import { PORTS } from '../cqrs/command-bus.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { decideAndAppend } from '../cqrs/decide-and-append.js';
import { randomToken, sha256 } from '../domain/crypto.js';
import { streams, type SignInSessionEndReason } from '../domain/events.js';
import { signInSessionDecider, type SignInSessionCommand, type SignInSessionState } from '../domain/sign-in-session.js';
import type { Ports } from './ports.js';
import { deciderHandler, StreamCommand } from './stream-command.js';

export class EndSignInSession extends StreamCommand<SignInSessionCommand, SignInSessionState> {
  /** `byUserId`: ended from outside its browser (the account page, an administrator), which only its user's id may. */
  constructor(signInSessionId: string, reason: SignInSessionEndReason, context: CommandContext, byUserId?: string) {
    super(streams.signInSession(signInSessionId), { kind: 'EndSignInSession', reason, byUserId }, context);
  }
}

/** A new sign-in session's cookie: its value (for the Set-Cookie only; events hold its hash) and lifetime. */
export interface NewSignInSession {
  cookie: string;
  maxAgeSeconds: number;
}

/** The account page keeps a session even where authorizations may not use one (SIGN_IN_SESSION_TTL=0). */
const ACCOUNT_ONLY_SESSION_SECONDS = 30 * 60;

/**
 * After a password sign-in: a new sign-in session under a new random cookie value (never
 * the one the browser came with, against session fixation), which ends the one it replaces.
 * Undefined when sign-in sessions are turned off (TTL 0) and no other lifetime is given.
 */
export async function startSignInSession(
  ports: Pick<Ports, 'streams' | 'config' | 'readModel'>,
  user: { userId: string; username: string },
  grantId: string | null,
  replaces: string | undefined,
  context: CommandContext,
  ttlSeconds = ports.config.signInSessionTtlSeconds,
): Promise<NewSignInSession | undefined> {
  if (ttlSeconds === 0) return undefined;
  const cookie = randomToken(32);
  const command: SignInSessionCommand = { kind: 'StartSignInSession', userId: user.userId, username: user.username, grantId, now: context.now, ttlSeconds };
  await decideAndAppend(ports.streams, streams.signInSession(sha256(cookie)), signInSessionDecider, command, context, { newStream: true });
  if (replaces) await decideAndAppend(ports.streams, streams.signInSession(replaces), signInSessionDecider, { kind: 'EndSignInSession', reason: 'replaced' }, context);
  // A bounded number of live sessions per user: the newest stay, the oldest beyond the cap are replaced by this one.
  const started = sha256(cookie);
  const others = ports.readModel.liveSignInSessionsOf(user.userId, context.now).filter((session) => session.signInSessionId !== replaces && session.signInSessionId !== started);
  for (const { signInSessionId } of others.slice(Math.max(0, ports.config.maxSignInSessionsPerUser - 1))) {
    await decideAndAppend(ports.streams, streams.signInSession(signInSessionId), signInSessionDecider, { kind: 'EndSignInSession', reason: 'replaced' }, context);
  }
  return { cookie, maxAgeSeconds: ttlSeconds };
}

/** A password sign-in outside any authorization (the account page): the sign-in session alone. */
export class SignInWithPassword extends Command<{ user: UserDocument; signInSession: NewSignInSession | undefined }> {
  constructor(
    readonly username: string,
    readonly password: string,
    readonly address: string,
    /** The sign-in session the browser had, which the new one ends. */
    readonly replacesSignInSessionId: string | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(SignInWithPassword)
export class SignInWithPasswordHandler implements ICommandHandler<SignInWithPassword> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  async execute(command: SignInWithPassword) {
    const user = await this.ports.loginGuard.signIn(command.username, command.password, command.address, command.context);
    const ttlSeconds = this.ports.config.signInSessionTtlSeconds || ACCOUNT_ONLY_SESSION_SECONDS;
    const signInSession = await startSignInSession(this.ports, user, null, command.replacesSignInSessionId, command.context, ttlSeconds);
    return { user, signInSession };
  }
}

export const signInSessionHandlers = [deciderHandler(EndSignInSession, signInSessionDecider), SignInWithPasswordHandler];
