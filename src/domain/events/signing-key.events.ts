import { Type } from '@sinclair/typebox';
import { Id, Iso, define } from './event-schema.js';

/** The access token signing keys' staged life (stream signingkey-<kid>): public keys only. */
export const signingKeyEvents = {
  // signingkey-<kid>
  SigningKeyGenerated: define({
    category: 'signingkey',
    schemaVersion: 2,
    description: 'A signing key was published (JWKS, key projection); it signs nothing before activateAfter. ES256 keys sign access tokens and ID tokens, RS256 keys ID tokens for the clients that ask for RS256.',
    data: Type.Object({ kid: Id, alg: Type.Union([Type.Literal('ES256'), Type.Literal('RS256')]), publicJwk: Type.Record(Type.String(), Type.Unknown()), activateAfter: Type.Optional(Iso) }),
    // Version 2 added RS256 keys: version 1 events (ES256 only) are valid version 2 as they are.
    upcasters: { 1: (data) => data },
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

};
