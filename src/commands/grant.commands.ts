import { randomBytes } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { activeSigningKey, type SigningKeyDocument } from '../../projections/signing-keys.projection.js';
import { userKey, type UserDocument } from '../../projections/users.projection.js';
import { PORTS } from '../cqrs/command-bus.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { decideAndAppend, type Decision } from '../cqrs/decide-and-append.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../credentials/password.js';
import { sha256 } from '../domain/crypto.js';
import { streams, type AccessTokenIssued, type AuthorizationRequested } from '../domain/events.js';
import { grantDecider, type GrantCommand, type GrantState } from '../domain/grant.js';
import { InvalidGrant, TemporarilyUnavailable } from '../domain/oauth-errors.js';
import { formatScope } from '../domain/scope.js';
import type { Ports } from './ports.js';
import { deciderHandler, StreamCommand } from './stream-command.js';

/** How long a user has to sign in and consent after the authorization request. */
export const INTERACTION_TTL_SECONDS = 600;

export class RequestAuthorization extends StreamCommand<GrantCommand, GrantState> {
  constructor(request: Omit<AuthorizationRequested['data'], 'expiresAt'>, context: CommandContext) {
    super(streams.grant(request.grantId), { kind: 'RequestAuthorization', request, now: context.now, ttlSeconds: INTERACTION_TTL_SECONDS }, context);
  }
}

export class DenyConsent extends StreamCommand<GrantCommand, GrantState> {
  constructor(grantId: string, browserSessionHash: string, context: CommandContext) {
    super(streams.grant(grantId), { kind: 'DenyConsent', browserSessionHash, now: context.now }, context);
  }
}

/** The username or the password is wrong; which one, nobody is told. */
export class LoginFailed extends Error {
  override readonly name = 'LoginFailed';
}

export class AuthenticateUser extends StreamCommand<never, GrantState> {
  constructor(
    readonly grantId: string,
    readonly username: string,
    readonly password: string,
    readonly browserSessionHash: string,
    context: CommandContext,
  ) {
    super(streams.grant(grantId), undefined as never, context);
  }
}

@CommandHandler(AuthenticateUser)
export class AuthenticateUserHandler implements ICommandHandler<AuthenticateUser> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  async execute(command: AuthenticateUser): Promise<Decision<GrantState>> {
    const userId = this.ports.readModel.get<string>('users', userKey.byUsername(command.username));
    const user = userId ? this.ports.readModel.get<UserDocument>('users', userKey.byId(userId)) : undefined;
    const stored = (user && this.ports.secrets.get('password', user.userId)) ?? DUMMY_PASSWORD_HASH;
    const valid = await verifyPassword(command.password, stored);
    if (!user || !valid) throw new LoginFailed('invalid username or password');
    return decideAndAppend(
      this.ports.store,
      command.stream,
      grantDecider,
      { kind: 'AuthenticateUser', userId: user.userId, username: user.username, browserSessionHash: command.browserSessionHash, now: command.context.now },
      command.context,
    );
  }
}

export interface ConsentResult {
  decision: Decision<GrantState>;
  /** The authorization code in clear: for the redirect only, never stored. */
  code: string;
}

export class GrantConsent extends StreamCommand<never, GrantState, ConsentResult> {
  constructor(
    readonly grantId: string,
    readonly browserSessionHash: string,
    context: CommandContext,
  ) {
    super(streams.grant(grantId), undefined as never, context);
  }
}

@CommandHandler(GrantConsent)
export class GrantConsentHandler implements ICommandHandler<GrantConsent> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  async execute(command: GrantConsent): Promise<ConsentResult> {
    // The grant id travels in the code so /token finds the stream without an index.
    const code = `${command.grantId}.${randomBytes(32).toString('base64url')}`;
    const decision = await decideAndAppend(
      this.ports.store,
      command.stream,
      grantDecider,
      {
        kind: 'GrantConsent',
        browserSessionHash: command.browserSessionHash,
        codeHash: sha256(code),
        now: command.context.now,
        codeTtlSeconds: this.ports.config.authorizationCodeTtlSeconds,
      },
      command.context,
    );
    return { decision, code };
  }
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export class RedeemAuthorizationCode extends StreamCommand<never, GrantState, TokenResponse> {
  constructor(
    readonly code: string,
    readonly clientId: string,
    readonly redirectUri: string | undefined,
    readonly codeVerifier: string,
    context: CommandContext,
  ) {
    super(streams.grant(grantIdOfCode(code)), undefined as never, context);
  }
}

function grantIdOfCode(code: string): string {
  const match = /^([0-9a-f-]{36})\.[A-Za-z0-9_-]{43}$/.exec(code);
  if (!match) throw new InvalidGrant('the authorization code is invalid, expired or already used');
  return match[1];
}

@CommandHandler(RedeemAuthorizationCode)
export class RedeemAuthorizationCodeHandler implements ICommandHandler<RedeemAuthorizationCode> {
  constructor(@Inject(PORTS) private readonly ports: Ports) {}
  async execute(command: RedeemAuthorizationCode): Promise<TokenResponse> {
    const { config, readModel, store, signer } = this.ports;
    const key = activeSigningKey(readModel.entries('signing-keys').map(([, doc]) => doc as SigningKeyDocument));
    if (!key) throw new TemporarilyUnavailable('no active signing key');
    const { events } = await decideAndAppend(
      store,
      command.stream,
      grantDecider,
      {
        kind: 'RedeemAuthorizationCode',
        codeHash: sha256(command.code),
        clientId: command.clientId,
        redirectUri: command.redirectUri,
        codeVerifier: command.codeVerifier,
        now: command.context.now,
        token: { jti: command.context.newId(), kid: key.kid, audience: config.resourceServerUrl, ttlSeconds: config.accessTokenTtlSeconds },
      },
      command.context,
    );
    // Signed only once the issuance is on record: if the append failed, no token exists.
    const issued = events.find((e) => e.type === 'AccessTokenIssued')!.data as AccessTokenIssued['data'];
    return {
      access_token: await signer.sign(accessTokenClaims(config.issuer, issued), issued.kid),
      token_type: 'Bearer',
      expires_in: config.accessTokenTtlSeconds,
      scope: formatScope(issued.scopes),
    };
  }
}

/** RFC 9068 section 2.2. */
export function accessTokenClaims(issuer: string, issued: AccessTokenIssued['data']) {
  return {
    iss: issuer,
    sub: issued.userId,
    aud: issued.audience,
    client_id: issued.clientId,
    scope: formatScope(issued.scopes),
    jti: issued.jti,
    iat: Math.floor(Date.parse(issued.issuedAt) / 1000),
    exp: Math.floor(Date.parse(issued.expiresAt) / 1000),
  };
}

export const grantHandlers = [
  deciderHandler(RequestAuthorization, grantDecider),
  deciderHandler(DenyConsent, grantDecider),
  AuthenticateUserHandler,
  GrantConsentHandler,
  RedeemAuthorizationCodeHandler,
];
