import type { SigningKeyGenerated } from '../src/domain/events.js';
import { defineProjection } from './projection.js';

export interface SigningKeyDocument {
  kid: string;
  alg: SigningKeyGenerated['data']['alg'];
  publicJwk: Record<string, unknown>;
  status: 'published' | 'active';
  activatedAt: string | null;
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
      return { kid: key.kid, alg: key.alg, publicJwk: key.publicJwk, status: 'published', activatedAt: null };
    }
    if (event.type === 'SigningKeyActivated' && current) return { ...current, status: 'active', activatedAt: event.time };
    return current;
  },
});

/** The key new tokens are signed with: the most recently activated one. */
export function activeSigningKey(keys: Iterable<SigningKeyDocument>): SigningKeyDocument | undefined {
  let newest: SigningKeyDocument | undefined;
  for (const key of keys) {
    if (key.status === 'active' && (!newest || (key.activatedAt ?? '') > (newest.activatedAt ?? ''))) newest = key;
  }
  return newest;
}
