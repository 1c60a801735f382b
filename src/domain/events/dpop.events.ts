import { Type } from '@sinclair/typebox';
import { Iso, define } from './event-schema.js';

/** DPoP proofs (RFC 9449), stream dpop-<hash of the key's thumbprint and the proof's jti>. */
export const dpopEvents = {
  DPoPProofAccepted: define({
    category: 'dpop',
    schemaVersion: 1,
    description:
      'A DPoP proof was accepted at the token endpoint. Its stream is named by the key and the proof\'s jti, so a second use of the same proof, on any instance, finds it and is refused. Only the key\'s public thumbprint is recorded.',
    data: Type.Object({
      jkt: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'the JWK SHA-256 thumbprint of the proof\'s public key (RFC 7638)' }),
      expiresAt: Iso,
    }),
  }),
};
