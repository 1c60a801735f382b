import type { SigningKeyDocument } from '../src/read-model/documents.js';
import { projectionOf } from './projection.js';

export type { SigningKeyDocument };

/**
 * Public signing keys by kid, with their lifecycle: the JWKS, and what a resource
 * server verifies tokens with, without calling the authorization server.
 */
export const signingKeysProjection = projectionOf<SigningKeyDocument>().folding({
  name: 'signing-keys',
  handles: ['SigningKeyGenerated', 'SigningKeyActivated', 'SigningKeyRotated', 'SigningKeyRetired'],
  keysOf: (event) => [event.data.kid],
  evolve: (current, event) => {
    if (event.type === 'SigningKeyGenerated') {
      const key = event.data;
      return {
        kid: key.kid, alg: key.alg, publicJwk: key.publicJwk, status: 'published',
        activateAfter: key.activateAfter ?? null, activatedAt: null, retireAfter: null,
      };
    }
    if (!current) return current;
    switch (event.type) {
      case 'SigningKeyActivated':
        return { ...current, status: 'active', activatedAt: event.time };
      case 'SigningKeyRotated':
        return { ...current, status: 'superseded', retireAfter: event.data.retireAfter };
      case 'SigningKeyRetired':
        return { ...current, status: 'retired' };
    }
  },
});

export function activeSigningKey(keys: Iterable<SigningKeyDocument>): SigningKeyDocument | undefined {
  let newest: SigningKeyDocument | undefined;
  for (const key of keys) {
    if (key.status === 'active' && (!newest || (key.activatedAt ?? '') > (newest.activatedAt ?? ''))) newest = key;
  }
  return newest;
}

/** Keys that verify tokens: every one published and not yet retired. */
export const verifies = (key: SigningKeyDocument | undefined): key is SigningKeyDocument => !!key && key.status !== 'retired';
