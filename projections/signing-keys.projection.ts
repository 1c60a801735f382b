import type { SigningKeyGenerated } from '../src/domain/events.js';
import { defineProjection } from './projection.js';

export interface SigningKeyDocument {
  kid: string;
  alg: SigningKeyGenerated['data']['alg'];
  publicJwk: Record<string, unknown>;
  status: 'published' | 'active';
}

/**
 * Public signing keys by kid: the JWKS, and what a resource server verifies tokens
 * with, without calling the authorization server.
 */
export const signingKeysProjection = defineProjection<SigningKeyDocument>({
  name: 'signing-keys',
  keysOf: (event) => (event.type.startsWith('SigningKey') ? [String(event.data.kid)] : []),
  evolve: (current, event) => {
    if (event.type === 'SigningKeyGenerated') {
      const key = event.data as unknown as SigningKeyGenerated['data'];
      return { kid: key.kid, alg: key.alg, publicJwk: key.publicJwk, status: 'published' };
    }
    if (event.type === 'SigningKeyActivated' && current) return { ...current, status: 'active' };
    return current;
  },
});
