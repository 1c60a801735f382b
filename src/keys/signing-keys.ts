import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const SIGNING_ALG = 'ES256';

export interface GeneratedKey {
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function generateSigningKey(): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG };
  return { kid, publicJwk, privateJwk };
}

/** Signs RFC 9068 access tokens with private keys from the key store, imported once per kid. */
export class AccessTokenSigner {
  private readonly keys = new Map<string, Promise<CryptoKey | Uint8Array>>();

  constructor(private readonly privateJwkOf: (kid: string) => JWK | undefined) {}

  sign(claims: JWTPayload, kid: string): Promise<string> {
    let key = this.keys.get(kid);
    if (!key) {
      const jwk = this.privateJwkOf(kid);
      if (!jwk) return Promise.reject(new Error(`no private key for signing key ${kid}`));
      key = importJWK(jwk, SIGNING_ALG);
      this.keys.set(kid, key);
    }
    return key.then((k) => new SignJWT(claims).setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'at+jwt' }).sign(k));
  }
}
