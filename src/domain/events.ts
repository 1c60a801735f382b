import type { Static } from '@sinclair/typebox';
import { GrantTypeSchema } from './events/event-schema.js';
import { clientManagementEvents } from './events/client-management.events.js';
import { deviceAuthorizationEvents } from './events/device-authorization.events.js';
import { grantEvents } from './events/grant.events.js';
import { logoutEvents } from './events/logout.events.js';
import { registrationEvents } from './events/registration.events.js';
import { resourceServerEvents } from './events/resource-server.events.js';
import { dpopEvents } from './events/dpop.events.js';
import { signInEvents } from './events/sign-in.events.js';
import { signingKeyEvents } from './events/signing-key.events.js';

export type { EventDefinition } from './events/event-schema.js';

/**
 * The domain's events, past tense, by stream (each family in events/): one definition
 * each, from which come the TypeScript types, the check every event passes before it is
 * appended, and the event catalog (JSON Schema, AsyncAPI) that downstream services read.
 * None carries a secret.
 */
export const eventDefinitions = { ...registrationEvents, ...clientManagementEvents, ...signInEvents, ...signingKeyEvents, ...grantEvents, ...deviceAuthorizationEvents, ...logoutEvents, ...resourceServerEvents, ...dpopEvents };

export type EventType = keyof typeof eventDefinitions;
type EventOf<T extends EventType> = { type: T; data: Static<(typeof eventDefinitions)[T]['data']>; schemaVersion?: number };

export type GrantType = Static<typeof GrantTypeSchema>;
export type ClientRegistered = EventOf<'ClientRegistered'>;
export type ClientSecretRotated = EventOf<'ClientSecretRotated'>;
export type ClientDisabled = EventOf<'ClientDisabled'>;
export type ClientUpdated = EventOf<'ClientUpdated'>;
export type ClientDeleted = EventOf<'ClientDeleted'>;
export type ResourceServerRegistered = EventOf<'ResourceServerRegistered'>;
export type ResourceServerDisabled = EventOf<'ResourceServerDisabled'>;
export type ResourceServerEvent = ResourceServerRegistered | ResourceServerDisabled;
export type DPoPProofAccepted = EventOf<'DPoPProofAccepted'>;
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
export type IdTokenIssued = EventOf<'IdTokenIssued'>;
export type BackChannelLogoutDelivered = EventOf<'BackChannelLogoutDelivered'>;
export type BackChannelLogoutFailed = EventOf<'BackChannelLogoutFailed'>;
export type BackChannelLogoutEvent = BackChannelLogoutDelivered | BackChannelLogoutFailed;
export type RefreshTokenIssued = EventOf<'RefreshTokenIssued'>;
export type RefreshTokenRotated = EventOf<'RefreshTokenRotated'>;
export type RefreshTokenRetried = EventOf<'RefreshTokenRetried'>;
export type RefreshTokenReuseDetected = EventOf<'RefreshTokenReuseDetected'>;
export type AuthorizationCodeReplayDetected = EventOf<'AuthorizationCodeReplayDetected'>;
export type TokenRevoked = EventOf<'TokenRevoked'>;
export type GrantRevoked = EventOf<'GrantRevoked'>;
export type DeviceAuthorizationRequested = EventOf<'DeviceAuthorizationRequested'>;
export type DeviceCodeApproved = EventOf<'DeviceCodeApproved'>;
export type DeviceCodeRedeemed = EventOf<'DeviceCodeRedeemed'>;

export type ClientEvent = ClientRegistered | ClientSecretRotated | ClientDisabled | ClientUpdated | ClientDeleted;
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
  | IdTokenIssued
  | RefreshTokenIssued
  | RefreshTokenRotated
  | RefreshTokenRetried
  | RefreshTokenReuseDetected
  | AuthorizationCodeReplayDetected
  | TokenRevoked
  | GrantRevoked
  | DeviceAuthorizationRequested
  | DeviceCodeApproved
  | DeviceCodeRedeemed;
export type OAuthEvent = ClientEvent | ClientAssertionAccepted | UserEvent | LoginEvent | SignInSessionEvent | SigningKeyEvent | GrantEvent | BackChannelLogoutEvent | ResourceServerEvent | DPoPProofAccepted;

export const streams = {
  client: (clientId: string) => `client-${clientId}`,
  user: (username: string) => `user-${username.toLowerCase()}`,
  login: (usernameHash: string) => `login-${usernameHash}`,
  backChannelLogout: (signInSessionId: string) => `logout-${signInSessionId}`,
  signInSession: (sessionId: string) => `session-${sessionId}`,
  signInSessionIdOf: (stream: string) => stream.slice('session-'.length),
  clientAssertion: (assertionHash: string) => `assertion-${assertionHash}`,
  signingKey: (kid: string) => `signingkey-${kid}`,
  dpopProof: (proofHash: string) => `dpop-${proofHash}`,
  /** Named after a hash of the URI: a URI's characters are not all a stream name's. */
  resourceServer: (resourceServerId: string) => `resource-${resourceServerId}`,
  grant: (grantId: string) => `grant-${grantId}`,
  grantIdOf: (stream: string) => stream.slice('grant-'.length),
};
