import { Type } from '@sinclair/typebox';
import { GrantTypeSchema, Id, Iso, Scopes, Sha256, define } from './event-schema.js';

/** One authorization grant (stream grant-<grantId>), from the request to every token issued under it. */
export const grantEvents = {
  // grant-<grantId>: one authorization, from the request to every token issued under it
  AuthorizationRequested: define({
    category: 'grant',
    schemaVersion: 3,
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
      // OpenID Connect Core 3.1.2.1: echoed in the ID token, to bind it to the client's session.
      nonce: Type.Optional(Type.String({ description: 'the OpenID Connect nonce the client sent' })),
      resources: Type.Optional(
        Type.Array(Type.String(), { minItems: 1, description: 'the resource servers its tokens may be for (RFC 8707): those asked for, or the client\'s default; absent on grants from before' }),
      ),
      dpopJkt: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'the DPoP key the code is bound to (dpop_jkt, RFC 9449 section 10): only a proof by it redeems the code' })),
      pushed: Type.Optional(Type.Literal(true, { description: 'the client pushed the request first, with its authentication (RFC 9126)' })),
    }),
    // Version 2 added nonce, version 3 resources, dpopJkt and pushed: older events are valid version 3 as they are.
    upcasters: { 1: (data) => data, 2: (data) => data },
  }),
  UserAuthenticated: define({
    category: 'grant',
    schemaVersion: 3,
    description: 'Step 2: the user signed in for this authorization, with a password or with the sign-in session the browser already had.',
    data: Type.Object({
      grantId: Id,
      userId: Id,
      username: Type.String(),
      method: Type.Union([Type.Literal('password'), Type.Literal('session')]),
      // With method session: the sign-in session that stood in; with password: the one the password started,
      // if sessions are on. Its stream is session-<signInSessionId>.
      signInSessionId: Type.Optional(Sha256),
      authTime: Type.Optional(Type.String({ format: 'date-time', description: 'when the user last gave the password (OpenID Connect auth_time)' })),
    }),
    // Version 1 knew only passwords, version 2 no authTime: their events are valid version 3 as they are.
    upcasters: { 1: (data) => data, 2: (data) => data },
  }),
  ConsentGranted: define({
    category: 'grant',
    schemaVersion: 3,
    description:
      'Step 2: the user allowed the client these scopes: on the consent page, or earlier in a grant still standing (rememberedFrom) when the browser was already signed in.',
    data: Type.Object({
      grantId: Id,
      userId: Id,
      clientId: Id,
      scopes: Scopes,
      // The grant whose consent stood in for the consent page: the user gave it these scopes and has not revoked it.
      rememberedFrom: Type.Optional(Id),
      resources: Type.Optional(Type.Array(Type.String(), { description: 'the resource servers the scopes were allowed at (RFC 8707)' })),
    }),
    // Version 1 knew only the consent page, version 2 no resources: their events are valid version 3 as they are.
    upcasters: { 1: (data) => data, 2: (data) => data },
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
    description: 'Step 5: an RFC 9068 access token was issued (its jti, never the token).',
    schemaVersion: 3,
    data: Type.Object({
      grantId: Id,
      grantType: GrantTypeSchema,
      jti: Id,
      kid: Id,
      clientId: Id,
      userId: Type.Union([Id, Type.Null()], { description: 'null for client_credentials' }),
      audience: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 2 })], { description: 'its aud: the resource server it is for, or several (RFC 8707)' }),
      jkt: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'the thumbprint of the key it is bound to (DPoP, RFC 9449: its cnf.jkt)' })),
      scopes: Scopes,
      issuedAt: Iso,
      expiresAt: Iso,
    }),
    // Version 1 came before refresh tokens and client_credentials: every token was from a code.
    // Version 2 knew one audience only: its events are valid version 3 as they are.
    upcasters: { 1: (data) => ({ ...data, grantType: 'authorization_code' }), 2: (data) => data },
  }),
  IdTokenIssued: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'An OpenID Connect ID token was issued to the client (its jti and session, never the token).',
    data: Type.Object({
      grantId: Id,
      jti: Id,
      clientId: Id,
      userId: Id,
      kid: Id,
      signInSessionId: Type.Optional(Type.String({ description: 'the sign-in session the ID token names as sid' })),
      issuedAt: Iso,
      expiresAt: Iso,
    }),
  }),
  RefreshTokenIssued: define({
    category: 'grant',
    schemaVersion: 3,
    description: 'A refresh token was issued (only its hash is recorded).',
    data: Type.Object({ grantId: Id, tokenHash: Sha256, expiresAt: Iso, userId: Type.Optional(Type.String({ minLength: 1, description: 'whose grant: the read side follows how long it lives' })), jkt: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'a public client\'s refresh token is bound to the DPoP key it was issued to (RFC 9449 section 5)' })) }),
    // Version 2 added userId, version 3 jkt: older events are valid version 3 without them.
    upcasters: { 1: (data) => data, 2: (data) => data },
  }),
  RefreshTokenRotated: define({
    category: 'grant',
    schemaVersion: 2,
    description: 'The presented refresh token is spent; its successor was issued in the same append.',
    data: Type.Object({
      grantId: Id,
      previousTokenHash: Sha256,
      retry: Type.Optional(
        Type.Object(
          { until: Iso, jkt: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })) },
          { description: 'a FAPI 2.0 client may present the spent token once more until then, with this DPoP key, and get the same successor (FAPI 2.0 Security Profile 5.3.2.1)' },
        ),
      ),
    }),
    // Version 2 added retry: version 1 events are valid version 2 without it.
    upcasters: { 1: (data) => data },
  }),
  RefreshTokenRetried: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'A FAPI 2.0 client presented the refresh token it had just spent, within its retry window and with the same DPoP key: it was answered with the same successor and a new access token, once.',
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
