import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PORTS } from '../cqrs/command-bus.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { decideAndAppend, type Decision } from '../cqrs/decide-and-append.js';
import { randomToken, sha256 } from '../domain/crypto.js';
import { streams, type AuthorizationRequested } from '../domain/events.js';
import { authorizationRequest, grantDecider, type GrantCommand, type GrantState, type HeldAuthorization, type SignedIn } from '../domain/grant.js';
import { ConsentRequired, LoginRequired } from '../domain/oauth-errors.js';
import { userOfSignInSession } from '../credentials/sign-in-session.js';
import type { UserGrant } from '../read-model/documents.js';
import { startSignInSession, type NewSignInSession } from './sign-in-session.commands.js';
import type { Ports } from './ports.js';
import { StreamCommand } from './stream-command.js';

/** How long a user has to sign in and consent after the authorization request. */
export const INTERACTION_TTL_SECONDS = 600;

/**
 * Whether consent the user gave before may stand in for the consent page: `ask` shows the
 * page anyway (prompt=consent), `remember` lets it, `silent` must do without any page
 * (prompt=none: no sign-in session or no consent to remember is an error, and nothing is
 * recorded).
 */
export type ConsentMode = 'ask' | 'remember' | 'silent';

export type AuthorizationResult =
  | {
      decision: Decision<GrantState>;
      /** The authorization code in clear, issued on remembered consent: for the redirect only. */
      code: string;
    }
  | {
      /**
       * The login page or the consent page comes next: the authorization as decided so far,
       * not recorded (the decision records it; src/gateway/held-authorization.ts says why).
       */
      held: HeldAuthorization;
    };

/**
 * Step 1, and step 2 when the browser's sign-in session (if it sent one, and it still
 * signs someone in within max_age) stands in for the password. When the user already let
 * this client have these scopes in a grant still standing, step 3 as well: the request,
 * the sign-in, the remembered consent and the code in one append. Otherwise nothing is
 * appended: see AuthorizationResult.
 */
export class RequestAuthorization extends Command<AuthorizationResult> {
  constructor(
    readonly request: Omit<AuthorizationRequested['data'], 'expiresAt'>,
    readonly signInSession: { id: string; maxAgeSeconds: number | undefined } | undefined,
    readonly consent: ConsentMode,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(RequestAuthorization)
export class RequestAuthorizationHandler implements ICommandHandler<RequestAuthorization> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  async execute(command: RequestAuthorization): Promise<AuthorizationResult> {
    const { now } = command.context;
    const request = authorizationRequest(command.request, now, INTERACTION_TTL_SECONDS);
    const session = command.signInSession;
    const user = session && (await userOfSignInSession(this.ports, session.id, now, session.maxAgeSeconds));
    const signedIn: SignedIn | undefined = user && session ? { userId: user.userId, username: user.username, method: 'session', signInSessionId: session.id, authTime: user.authTime } : undefined;
    const fromGrantId = signedIn && command.consent !== 'ask' ? rememberedConsent(this.ports.readModel, signedIn.userId, request, now) : undefined;
    if (command.consent === 'silent' && !signedIn) throw new LoginRequired('the user must sign in');
    if (command.consent === 'silent' && !fromGrantId) throw new ConsentRequired('the user must be asked for consent');
    if (!signedIn || !fromGrantId) return { held: { request, ...(signedIn ? { signedIn } : {}) } };
    return decideConsent(this.ports, { request, signedIn }, request.browserSessionHash, command.context, fromGrantId);
  }
}

/** The grant id travels in the code so /token finds the stream without an index. */
const newAuthorizationCode = (grantId: string) => `${grantId}.${randomToken(32)}`;

/**
 * The most recent grant the user gave this client that still stands and covers these
 * scopes at these resource servers: the consent that may stand in for the consent page.
 * A grant from before resource indicators covers no request naming them. Revoking the
 * application on the account page revokes them all, and the page is shown again.
 */
function rememberedConsent(readModel: Ports['readModel'], userId: string, request: Pick<AuthorizationRequested['data'], 'clientId' | 'scopes' | 'resources'>, now: Date): string | undefined {
  let found: UserGrant | undefined;
  const covers = (granted: readonly string[] | undefined, asked: readonly string[] | undefined) => asked === undefined || (granted !== undefined && asked.every((each) => granted.includes(each)));
  for (const grant of readModel.liveGrantsOf(userId, now)) {
    if (grant.clientId !== request.clientId || !covers(grant.scopes, request.scopes) || !covers(grant.resources, request.resources)) continue;
    if (!found || grant.grantedAt > found.grantedAt) found = grant;
  }
  return found?.grantId;
}

export class DenyConsent extends StreamCommand<GrantCommand, GrantState> {
  constructor(held: Required<HeldAuthorization>, browserSessionHash: string, context: CommandContext) {
    super(streams.grant(held.request.grantId), { kind: 'DenyConsent', held, browserSessionHash, now: context.now }, context);
  }
}

@CommandHandler(DenyConsent)
export class DenyConsentHandler implements ICommandHandler<DenyConsent> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  execute(command: DenyConsent): Promise<Decision<GrantState>> {
    const { held } = command.decision as Extract<GrantCommand, { kind: 'DenyConsent' }>;
    return withinAuthorizationLimit(this.ports, held, command.context.now, () =>
      decideAndAppend(this.ports.streams, command.stream, grantDecider, command.decision, command.context, { newStream: true }),
    );
  }
}

/** A decision recorded only while the user is within the authorization limit (authorization-limit.ts), and then counted. */
async function withinAuthorizationLimit<T>(ports: Ports, held: Required<HeldAuthorization>, now: Date, record: () => Promise<T>): Promise<T> {
  ports.authorizationLimit.check(held.signedIn.userId, held.request.clientId, now);
  return record();
}

/**
 * A password sign-in for an authorization: the user, and the sign-in session it starts
 * (none with sessions turned off). Nothing goes on the grant's stream yet: the consent
 * page's decision records the sign-in with it.
 */
export class AuthenticateUser extends Command<{ signedIn: SignedIn; signInSession: NewSignInSession | undefined }> {
  constructor(
    /** The authorization the password is typed for: the sign-in session names it. */
    readonly grantId: string,
    readonly username: string,
    readonly password: string,
    readonly address: string,
    /** The sign-in session the browser had (prompt=login, max_age): the new one ends it. */
    readonly replacesSignInSessionId: string | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(AuthenticateUser)
export class AuthenticateUserHandler implements ICommandHandler<AuthenticateUser> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  async execute(command: AuthenticateUser) {
    const user = await this.ports.loginGuard.signIn(command.username, command.password, command.address, command.context);
    const signInSession = await startSignInSession(this.ports, user, command.grantId, command.replacesSignInSessionId, command.context);
    const signedIn: SignedIn = {
      userId: user.userId,
      username: user.username,
      method: 'password',
      ...(signInSession ? { signInSessionId: sha256(signInSession.cookie) } : {}),
      authTime: command.context.now.toISOString(),
    };
    return { signedIn, signInSession };
  }
}

export interface ConsentResult {
  decision: Decision<GrantState>;
  /** The authorization code in clear: for the redirect only, never stored. */
  code: string;
}

export class GrantConsent extends Command<ConsentResult> {
  constructor(
    readonly held: Required<HeldAuthorization>,
    readonly browserSessionHash: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(GrantConsent)
export class GrantConsentHandler implements ICommandHandler<GrantConsent> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  execute(command: GrantConsent): Promise<ConsentResult> {
    return decideConsent(this.ports, command.held, command.browserSessionHash, command.context);
  }
}

/** Consent given, on the consent page or remembered: the whole authorization goes on record with its code. */
/** FAPI 2.0 Security Profile section 5.3.2.1: a FAPI client's codes live at most 60 seconds, whatever the server's setting. */
export const FAPI2_MAX_CODE_SECONDS = 60;
const codeLifetime = (ports: Ports, clientId: string) =>
  ports.readModel.client(clientId)?.securityProfile === 'fapi2' ? Math.min(ports.config.authorizationCodeTtlSeconds, FAPI2_MAX_CODE_SECONDS) : ports.config.authorizationCodeTtlSeconds;

async function decideConsent(
  ports: Ports,
  held: Required<HeldAuthorization>,
  browserSessionHash: string,
  context: CommandContext,
  rememberedFrom?: string,
): Promise<ConsentResult> {
  const code = newAuthorizationCode(held.request.grantId);
  const decision = await withinAuthorizationLimit(ports, held, context.now, () => decideAndAppend(
    ports.streams,
    streams.grant(held.request.grantId),
    grantDecider,
    {
      kind: 'GrantConsent',
      held,
      browserSessionHash,
      codeHash: sha256(code),
      now: context.now,
      codeTtlSeconds: codeLifetime(ports, held.request.clientId),
      ...(rememberedFrom ? { rememberedFrom } : {}),
    },
    context,
    // The grant id was made at /authorize and nothing was recorded under it; the token request reads it next.
    { newStream: true, remember: true },
  ));
  return { decision, code };
}

export const authorizationHandlers = [RequestAuthorizationHandler, DenyConsentHandler, AuthenticateUserHandler, GrantConsentHandler];
