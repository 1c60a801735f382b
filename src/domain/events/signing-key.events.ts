import { Type } from '@sinclair/typebox';
import { Id, Iso, define } from './event-schema.js';

/** The access token signing keys' staged life (stream signingkey-<kid>): public keys only. */
export const signingKeyEvents = {
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

};
