import { randomUUID } from 'node:crypto';
import { createPrivateKey, sign as cryptoSign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';

/** Access tokens are signed ES256 only: the resource servers accept nothing else. */
export const SIGNING_ALG = 'ES256';
/** What a key may be: ES256 for every token, RS256 for the ID tokens of relying parties that ask for it. */
export type SigningAlg = 'ES256' | 'RS256';
export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256'];

export interface GeneratedKey {
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function generateSigningKey(alg: SigningAlg = SIGNING_ALG): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  return { kid, publicJwk, privateJwk };
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs RFC 9068 access tokens with private keys from the key store, imported once per kid.
 * The JWS is built here and signed with node:crypto's synchronous ES256 (IEEE P1363
 * signature, as JWS wants): on the token endpoint's hot path this runs well over twice as
 * fast as an asynchronous WebCrypto signature, which waits on the thread pool. Tokens are
 * verified with jose everywhere, so any difference would show at once in the tests.
 */
export class AccessTokenSigner {
  private readonly keys = new Map<string, KeyObject>();

  /** The private key is looked up once per kid: a key rotated on another instance is found at its first use here. */
  constructor(private readonly privateJwkOf: (kid: string) => Promise<JWK | undefined>) {}

  /** `typ`: at+jwt for access tokens (RFC 9068), JWT for ID tokens, logout+jwt for logout tokens (Back-Channel Logout). */
  async sign(claims: JWTPayload, kid: string, typ: 'at+jwt' | 'JWT' | 'logout+jwt' = 'at+jwt'): Promise<string> {
    let key = this.keys.get(kid);
    if (!key) {
      const jwk = await this.privateJwkOf(kid);
      if (!jwk) throw new Error(`no private key for signing key ${kid}`);
      key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
      this.keys.set(kid, key);
    }
    // The key says its algorithm: RSASSA-PKCS1-v1_5 for RSA (RS256), ECDSA P-256 for EC (ES256).
    const rsa = key.asymmetricKeyType === 'rsa';
    const signingInput = `${base64url({ alg: rsa ? 'RS256' : SIGNING_ALG, kid, typ })}.${base64url(claims)}`;
    const signature = rsa ? cryptoSign('sha256', Buffer.from(signingInput), key) : cryptoSign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${signature.toString('base64url')}`;
  }
}
