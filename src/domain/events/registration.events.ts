import { Type } from '@sinclair/typebox';
import { GrantTypeSchema, Id, Scopes, define } from './event-schema.js';

/** Clients (stream client-<clientId>) and users (stream user-<username>). */
export const registrationEvents = {
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
      dynamicRegistration: Type.Optional(
        Type.Union([Type.Literal('open'), Type.Literal('initial-access-token')], {
          description: 'registered by the client itself (RFC 7591): openly, or with an initial access token; absent: by an administrator',
        }),
      ),
      initialAccessTokenId: Type.Optional(Type.String({ description: 'the id (never the token) of the initial access token it registered with' })),
      clientUri: Type.Optional(Type.String({ description: 'RFC 7591 client_uri' })),
      logoUri: Type.Optional(Type.String({ description: 'RFC 7591 logo_uri' })),
      tosUri: Type.Optional(Type.String({ description: 'RFC 7591 tos_uri' })),
      policyUri: Type.Optional(Type.String({ description: 'RFC 7591 policy_uri' })),
      idTokenSignedResponseAlg: Type.Optional(
        Type.Union([Type.Literal('ES256'), Type.Literal('RS256')], { description: 'how its ID tokens are signed (OpenID Connect Registration; RS256 when absent)' }),
      ),
      introspectionAudiences: Type.Optional(
        Type.Array(Type.String(), { description: 'a resource server\'s audiences: it may introspect access tokens issued for them (RFC 7662 section 4); absent: only its own tokens' }),
      ),
      postLogoutRedirectUris: Type.Optional(Type.Array(Type.String(), { description: 'where RP-initiated logout may send the browser back (exact match)' })),
      backchannelLogoutUri: Type.Optional(Type.String({ description: 'where back-channel logout tokens are posted (OpenID Connect Back-Channel Logout)' })),
      backchannelLogoutSessionRequired: Type.Optional(Type.Boolean({ description: 'whether its logout tokens must carry sid' })),
      resources: Type.Optional(
        Type.Array(Type.String(), { description: 'the resource servers (RFC 8707 resource indicators) it may ask tokens for, the first its default; absent: any registered one, the server\'s default first' }),
      ),
      dpopBoundAccessTokens: Type.Optional(Type.Boolean({ description: 'its access tokens must be DPoP-bound: a token request without a proof is refused (RFC 9449 section 5.2)' })),
      requirePushedAuthorizationRequests: Type.Optional(Type.Boolean({ description: 'it may start an authorization only with a pushed request (RFC 9126 section 6)' })),
      securityProfile: Type.Optional(
        Type.Literal('fapi2', { description: 'FAPI 2.0 Security Profile: pushed requests, DPoP-bound tokens, private_key_jwt, 60-second codes, a safe refresh retry' }),
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

};
