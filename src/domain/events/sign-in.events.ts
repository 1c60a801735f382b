import { Type } from '@sinclair/typebox';
import { Id, Iso, define } from './event-schema.js';

/** Sign-in attempts, sign-in sessions and client assertions used once. */
export const signInEvents = {
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

};
