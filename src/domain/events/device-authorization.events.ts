import { Type } from '@sinclair/typebox';
import { Id, Iso, Scopes, Sha256, define } from './event-schema.js';

/**
 * The OAuth 2.0 Device Authorization Grant (RFC 8628) on the grant's stream (grant-<grantId>):
 * the device's request, the user's approval on the verification page (recorded with the
 * existing UserAuthenticated and ConsentGranted, or ConsentDenied), and the device code
 * exchanged at the token endpoint (followed by the existing token events).
 */
export const deviceAuthorizationEvents = {
  DeviceAuthorizationRequested: define({
    category: 'grant',
    schemaVersion: 1,
    description:
      'RFC 8628 section 3.1: a device asked for authorization. Its device code and user code are recorded as hashes only (the user code keyed, see docs/device-flow.md).',
    data: Type.Object({
      grantId: Id,
      clientId: Id,
      scopes: Scopes,
      deviceCodeHash: Sha256,
      userCodeHash: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'HMAC-SHA-256 of the user code under a server key, base64url' }),
      expiresAt: Iso,
      interval: Type.Integer({ minimum: 1, description: 'seconds the device must wait between polls (RFC 8628 section 3.2)' }),
      resources: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'the resource servers its tokens may be for (RFC 8707): those asked for, or the client\'s default' })),
    }),
  }),
  DeviceCodeApproved: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'The user approved the device (after ConsentGranted): its device code gives tokens once, until it expires.',
    data: Type.Object({ grantId: Id, userId: Id, expiresAt: Iso }),
  }),
  DeviceCodeRedeemed: define({
    category: 'grant',
    schemaVersion: 1,
    description: 'RFC 8628 section 3.5: the approved device code was exchanged at the token endpoint (once).',
    data: Type.Object({ grantId: Id, clientId: Id }),
  }),
};
