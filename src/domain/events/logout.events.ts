import { Type } from '@sinclair/typebox';
import { Id, define } from './event-schema.js';

const Outcome = Type.Object({
  signInSessionId: Type.String({ description: 'the sign-in session that ended (sid)' }),
  clientId: Id,
  userId: Id,
  attempts: Type.Integer({ minimum: 1 }),
});

/** OpenID Connect Back-Channel Logout (stream logout-<signInSessionId>): who was told that a sign-in session ended. */
export const logoutEvents = {
  BackChannelLogoutDelivered: define({
    category: 'logout',
    schemaVersion: 1,
    description: 'A client that received an ID token in a sign-in session that ended accepted its logout token (its jti, never the token).',
    data: Type.Composite([Outcome, Type.Object({ jti: Id })]),
  }),
  BackChannelLogoutFailed: define({
    category: 'logout',
    schemaVersion: 1,
    description: 'A client\'s back-channel logout URI did not accept the logout token after every attempt: it was given up.',
    data: Type.Composite([Outcome, Type.Object({ lastError: Type.String({ description: 'the last answer: an HTTP status, or what went wrong on the way' }) })]),
  }),
};
