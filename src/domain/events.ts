import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The domain's events, past tense, by stream: one definition each, from which come the
 * TypeScript types, the check every event passes before it is appended, and the event
 * catalog (JSON Schema, AsyncAPI) that downstream services read. None carries a secret:
 * codes, tokens and client secrets appear only as SHA-256 hashes or ids, password hashes
 * and private keys never (they live in the secret store).
 */

export interface EventDefinition<Data extends TSchema = TSchema> {
  /** The stream category, also the middle token of the NATS subject. */
  category: 'client' | 'assertion' | 'user' | 'login' | 'session' | 'signingkey' | 'grant';
  schemaVersion: number;
  description: string;
  data: Data;
  /** upcasters[v] turns data written at schema version v into version v + 1. */
  upcasters?: Record<number, (data: Record<string, unknown>) => Record<string, unknown>>;
}

const define = <Data extends TSchema>(definition: EventDefinition<Data>) => definition;

const Iso = Type.String({ format: 'date-time', description: 'ISO 8601 time, UTC' });
const Id = Type.String({ minLength: 1 });
const Scopes = Type.Array(Type.String());
const GrantTypeSchema = Type.Union([Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials')]);
const Sha256 = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'SHA-256, base64url' });

export const eventDefinitions = {
  // client-<clientId>
  ClientRegistered: define({
    category: 'client',
    schemaVersion: 1,
    description: 'A client application was registered (its secret, if any, is kept only as a hash, outside events).',
    data: Type.Object({
      clientId: Id,
      name: Type.String(),
      clientType: Type.Union([Type.Literal('confidential'), Type.Literal('public')]),
      redirectUris: Type.Array(Type.String()),
      scopes: Scopes,
      tokenEndpointAuthMethod: Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post'), Type.Literal('private_key_jwt'), Type.Literal('none')]),
      grantTypes: Type.Array(GrantTypeSchema),
      jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }, { description: 'public keys for private_key_jwt' })),
      introspectionAudiences: Type.Optional(
        Type.Array(Type.String(), { description: 'a resource server\'s audiences: it may introspect access tokens issued for them (RFC 7662 section 4); absent: only its own tokens' }),
      ),
    }),
  }),

  ClientSecretRotated: define({
    category: 'client',
    schemaVersion: 1,
    description: 'The client was given a new secret; the old one no longer authenticates (neither is in the event).',
    data: Type.Object({ clientId: Id }),
  }),
  ClientDisabled: define({
    category: 'client',
    schemaVersion: 1,
    description: 'The client may no longer authorize, obtain, revoke or introspect tokens.',
    data: Type.Object({ clientId: Id }),
  }),

  // user-<username>
  UserRegistered: define({
    category: 'user',
    schemaVersion: 1,
    description: 'A user account was created (the password hash is kept outside events).',
    data: Type.Object({ userId: Id, username: Type.String(), name: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }),
  }),

  UserDisabled: define({
    category: 'user',
    schemaVersion: 1,
    description: 'The user may no longer sign in.',
    data: Type.Object({ userId: Id, username: Type.String() }),
  }),

  // login-<sha256 of the lower-cased username>
  LoginFailed: define({
    category: 'login',
    schemaVersion: 1,
    description: 'A sign-in failed: wrong credentials. (Earlier releases also recorded attempts refused while throttled, reason throttled; refusals are no longer recorded and never counted.)',
    data: Type.Object({ username: Type.String(), address: Type.String(), reason: Type.Union([Type.Literal('bad_credentials'), Type.Literal('throttled')]), at: Iso }),
  }),
  LoginSucceeded: define({
    category: 'login',
    schemaVersion: 1,
    description: 'A sign-in succeeded after failures from its address (which then no longer count), or from an address new to the account (which throttling then lets in past failures spread over many addresses).',
    data: Type.Object({ username: Type.String(), address: Type.String(), at: Iso }),
  }),

  // session-<sha256 of the sign-in cookie>
  SignInSessionStarted: define({
    category: 'session',
    schemaVersion: 1,
    description: 'A user signed in with a password and this browser stays signed in: later authorizations may skip the password until it expires.',
    data: Type.Object({
      userId: Id,
      username: Type.String(),
      grantId: Type.Union([Id, Type.Null()], { description: 'the authorization the password was given for (its grant is on record once the user decides); null on the account page' }),
      authTime: Iso,
      expiresAt: Iso,
    }),
  }),
  SignInSessionEnded: define({
    category: 'session',
    schemaVersion: 2,
    description:
      'The browser is no longer signed in: the user signed out (in it, or from another browser on the account page), signed in again and got a new session, or was disabled.',
    data: Type.Object({
      userId: Id,
      reason: Type.Union([Type.Literal('signed_out'), Type.Literal('replaced'), Type.Literal('signed_out_elsewhere'), Type.Literal('user_disabled')]),
    }),
    // Version 2 added the reasons signed_out_elsewhere and user_disabled: version 1 events are valid version 2 as they are.
    upcasters: { 1: (data) => data },
  }),

  // assertion-<sha256(clientId, jti)>
  ClientAssertionAccepted: define({
    category: 'assertion',
    schemaVersion: 1,
    description:
      'A client authenticated with a signed JWT (private_key_jwt, RFC 7523). Its stream is named by the client and the jti, so a second use of the same assertion, on any instance, finds it and is refused.',
    data: Type.Object({ clientId: Id, jti: Id, expiresAt: Iso }),
  }),

  // signingkey-<kid>
  SigningKeyGenerated: define({
    category: 'signingkey',
    schemaVersion: 1,
    description: 'A signing key was published (JWKS, key projection); it signs nothing before activateAfter.',
    data: Type.Object({ kid: Id, alg: Type.Literal('ES256'), publicJwk: Type.Record(Type.String(), Type.Unknown()), activateAfter: Type.Optional(Iso) }),
  }),
  SigningKeyActivated: define({
    category: 'signingkey',
    schemaVersion: 1,
    description: 'New access tokens are signed with this key from now on.',
    data: Type.Object({ kid: Id }),
  }),
  SigningKeyRotated: define({
    category: 'signingkey',
    schemaVersion: 1,
    description: 'A newer key took over; this one still verifies the tokens it signed until retireAfter.',
    data: Type.Object({ kid: Id, supersededBy: Id, retireAfter: Iso }),
  }),
  SigningKeyRetired: define({
    category: 'signingkey',
    schemaVersion: 1,
    description: 'The key left the JWKS; tokens it signed are refused.',
    data: Type.Object({ kid: Id }),
  }),

  // grant-<grantId>: one authorization, from the request to every token issued under it
  AuthorizationRequested: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'Step 1: a client asked for authorization (code flow with PKCE). Recorded with the sign-in and the user\'s decision, in the same append: a request nobody decides leaves no event.',
    data: Type.Object({
      grantId: Id,
      clientId: Id,
      redirectUri: Type.String(),
      redirectUriSent: Type.Boolean({ description: 'whether the client sent redirect_uri; if so the token request must repeat it' }),
      scopes: Scopes,
      state: Type.Union([Type.String(), Type.Null()]),
      codeChallenge: Type.String(),
      codeChallengeMethod: Type.Literal('S256'),
      browserSessionHash: Sha256,
      expiresAt: Iso,
    }),
  }),
  UserAuthenticated: define({
    category: 'grant',
    schemaVersion: 2,
    description: 'Step 2: the user signed in for this authorization, with a password or with the sign-in session the browser already had.',
    data: Type.Object({
      grantId: Id,
      userId: Id,
      username: Type.String(),
      method: Type.Union([Type.Literal('password'), Type.Literal('session')]),
      // With method session: the sign-in session that stood in; with password: the one the password started,
      // if sessions are on. Its stream is session-<signInSessionId>.
      signInSessionId: Type.Optional(Sha256),
    }),
    // Version 1 knew only passwords: its events are valid version 2 as they are.
    upcasters: { 1: (data) => data },
  }),
  ConsentGranted: define({
    category: 'grant',
    schemaVersion: 2,
    description:
      'Step 2: the user allowed the client these scopes: on the consent page, or earlier in a grant still standing (rememberedFrom) when the browser was already signed in.',
    data: Type.Object({
      grantId: Id,
      userId: Id,
      clientId: Id,
      scopes: Scopes,
      // The grant whose consent stood in for the consent page: the user gave it these scopes and has not revoked it.
      rememberedFrom: Type.Optional(Id),
    }),
    // Version 1 knew only the consent page: its events are valid version 2 as they are.
    upcasters: { 1: (data) => data },
  }),
  ConsentDenied: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'Step 2: the user denied the client.',
    data: Type.Object({ grantId: Id, userId: Id, clientId: Id }),
  }),
  AuthorizationCodeIssued: define({
    category: 'grant',
    schemaVersion: 2,
    description: 'Step 3: an authorization code was issued (only its hash is recorded).',
    data: Type.Object({ grantId: Id, codeHash: Sha256, expiresAt: Iso, userId: Type.Optional(Type.String({ minLength: 1, description: 'whose grant: the read side follows how long it lives' })) }),
    // Version 2 added userId: version 1 events are valid version 2 without it.
    upcasters: { 1: (data) => data },
  }),
  AuthorizationCodeRedeemed: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'Step 4: the code was exchanged at the token endpoint.',
    data: Type.Object({ grantId: Id, clientId: Id }),
  }),
  AccessTokenIssued: define({
    category: 'grant',
    schemaVersion: 2,
    description: 'Step 5: an RFC 9068 access token was issued (its jti, never the token).',
    data: Type.Object({
      grantId: Id,
      grantType: GrantTypeSchema,
      jti: Id,
      kid: Id,
      clientId: Id,
      userId: Type.Union([Id, Type.Null()], { description: 'null for client_credentials' }),
      audience: Type.String(),
      scopes: Scopes,
      issuedAt: Iso,
      expiresAt: Iso,
    }),
    // Version 1 came before refresh tokens and client_credentials: every token was from a code.
    upcasters: { 1: (data) => ({ ...data, grantType: 'authorization_code' }) },
  }),
  RefreshTokenIssued: define({
    category: 'grant',
    schemaVersion: 2,
    description: 'A refresh token was issued (only its hash is recorded).',
    data: Type.Object({ grantId: Id, tokenHash: Sha256, expiresAt: Iso, userId: Type.Optional(Type.String({ minLength: 1, description: 'whose grant: the read side follows how long it lives' })) }),
    // Version 2 added userId: version 1 events are valid version 2 without it.
    upcasters: { 1: (data) => data },
  }),
  RefreshTokenRotated: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'The presented refresh token is spent; its successor was issued in the same append.',
    data: Type.Object({ grantId: Id, previousTokenHash: Sha256 }),
  }),
  RefreshTokenReuseDetected: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'A spent refresh token was presented again: treated as stolen, the grant is revoked.',
    data: Type.Object({ grantId: Id, clientId: Id, tokenHash: Sha256 }),
  }),
  AuthorizationCodeReplayDetected: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'A redeemed code was presented again: what it gave is revoked (RFC 6749 section 4.1.2).',
    data: Type.Object({ grantId: Id, clientId: Id }),
  }),
  TokenRevoked: define({
    category: 'grant',
    schemaVersion: 2,
    description: 'One access token was revoked (RFC 7009).',
    data: Type.Object({
      grantId: Id,
      jti: Id,
      by: Type.String(),
      expiresAt: Type.Optional(Type.String({ format: 'date-time', description: "the token's own expiry: after it, nobody needs to remember the revocation" })),
    }),
    // Version 2 added expiresAt: version 1 events are valid version 2 without it (their token's expiry unknown).
    upcasters: { 1: (data) => data },
  }),
  GrantRevoked: define({
    category: 'grant',
    schemaVersion: 3,
    description: 'The grant and every token issued under it were revoked.',
    data: Type.Object({
      grantId: Id,
      reason: Type.Union([
        Type.Literal('refresh_token_reuse'),
        Type.Literal('authorization_code_replay'),
        Type.Literal('refresh_token_revoked'),
        Type.Literal('revoked_by_user'),
        Type.Literal('user_disabled'),
      ]),
      by: Type.String(),
      clientId: Id,
      userId: Type.Union([Id, Type.Null()]),
      accessTokensExpireBy: Type.Optional(
        Type.Union([Iso, Type.Null()], {
          description: 'when the last access token issued under the grant expires (null: none was); after it, nobody needs to remember the revocation',
        }),
      ),
    }),
    // Version 2 added the reason user_disabled, version 3 accessTokensExpireBy: older events
    // are valid version 3 as they are (without it, their tokens' expiry is unknown).
    upcasters: { 1: (data) => data, 2: (data) => data },
  }),
};

export type EventType = keyof typeof eventDefinitions;
type EventOf<T extends EventType> = { type: T; data: Static<(typeof eventDefinitions)[T]['data']>; schemaVersion?: number };

export type GrantType = Static<typeof GrantTypeSchema>;
export type ClientRegistered = EventOf<'ClientRegistered'>;
export type ClientSecretRotated = EventOf<'ClientSecretRotated'>;
export type ClientDisabled = EventOf<'ClientDisabled'>;
export type UserRegistered = EventOf<'UserRegistered'>;
export type UserDisabled = EventOf<'UserDisabled'>;
export type LoginFailed = EventOf<'LoginFailed'>;
export type LoginSucceeded = EventOf<'LoginSucceeded'>;
export type SignInSessionStarted = EventOf<'SignInSessionStarted'>;
export type SignInSessionEnded = EventOf<'SignInSessionEnded'>;
export type SignInSessionEndReason = SignInSessionEnded['data']['reason'];
export type SigningKeyGenerated = EventOf<'SigningKeyGenerated'>;
export type SigningKeyActivated = EventOf<'SigningKeyActivated'>;
export type SigningKeyRotated = EventOf<'SigningKeyRotated'>;
export type SigningKeyRetired = EventOf<'SigningKeyRetired'>;
export type AuthorizationRequested = EventOf<'AuthorizationRequested'>;
export type UserAuthenticated = EventOf<'UserAuthenticated'>;
export type ConsentGranted = EventOf<'ConsentGranted'>;
export type ConsentDenied = EventOf<'ConsentDenied'>;
export type AuthorizationCodeIssued = EventOf<'AuthorizationCodeIssued'>;
export type AuthorizationCodeRedeemed = EventOf<'AuthorizationCodeRedeemed'>;
export type AccessTokenIssued = EventOf<'AccessTokenIssued'>;
export type RefreshTokenIssued = EventOf<'RefreshTokenIssued'>;
export type RefreshTokenRotated = EventOf<'RefreshTokenRotated'>;
export type RefreshTokenReuseDetected = EventOf<'RefreshTokenReuseDetected'>;
export type AuthorizationCodeReplayDetected = EventOf<'AuthorizationCodeReplayDetected'>;
export type TokenRevoked = EventOf<'TokenRevoked'>;
export type GrantRevoked = EventOf<'GrantRevoked'>;

export type ClientEvent = ClientRegistered | ClientSecretRotated | ClientDisabled;
export type UserEvent = UserRegistered | UserDisabled;
export type LoginEvent = LoginFailed | LoginSucceeded;
export type SignInSessionEvent = SignInSessionStarted | SignInSessionEnded;
export type ClientAssertionAccepted = EventOf<'ClientAssertionAccepted'>;
export type SigningKeyEvent = SigningKeyGenerated | SigningKeyActivated | SigningKeyRotated | SigningKeyRetired;
export type GrantEvent =
  | AuthorizationRequested
  | UserAuthenticated
  | ConsentGranted
  | ConsentDenied
  | AuthorizationCodeIssued
  | AuthorizationCodeRedeemed
  | AccessTokenIssued
  | RefreshTokenIssued
  | RefreshTokenRotated
  | RefreshTokenReuseDetected
  | AuthorizationCodeReplayDetected
  | TokenRevoked
  | GrantRevoked;
export type OAuthEvent = ClientEvent | ClientAssertionAccepted | UserEvent | LoginEvent | SignInSessionEvent | SigningKeyEvent | GrantEvent;

export const streams = {
  client: (clientId: string) => `client-${clientId}`,
  user: (username: string) => `user-${username.toLowerCase()}`,
  login: (usernameHash: string) => `login-${usernameHash}`,
  signInSession: (sessionId: string) => `session-${sessionId}`,
  signInSessionIdOf: (stream: string) => stream.slice('session-'.length),
  clientAssertion: (assertionHash: string) => `assertion-${assertionHash}`,
  signingKey: (kid: string) => `signingkey-${kid}`,
  grant: (grantId: string) => `grant-${grantId}`,
  grantIdOf: (stream: string) => stream.slice('grant-'.length),
};
