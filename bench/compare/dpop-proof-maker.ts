/**
 * A DPoP client's proofs (RFC 9449 section 4), made fast enough that the load generator is
 * not what a DPoP workload measures: one ES256 key per connection, its header (with the
 * public jwk) encoded once, a jti from a counter behind a random prefix, and node:crypto's
 * one-shot sign with the IEEE P1363 encoding JOSE's ES256 wants (jose's SignJWT imports
 * and encodes the key on every call).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** SHA-256 of an access token, base64url: a proof's `ath` (RFC 9449 section 4.2). */
export const accessTokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

export class DPoPProofMaker {
  private readonly privateKey: KeyObject;
  private readonly header: string;
  private readonly jtiPrefix = randomBytes(12).toString('base64url');
  private count = 0;
  /** The server's nonce from its last answer (its DPoP-Nonce header), sent in every proof once known. */
  nonce: string | undefined;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
    this.privateKey = privateKey;
    this.header = base64url({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } });
  }

  /** A fresh proof for one request: method, URL, and the access token's hash where one is presented. */
  proof(htm: string, htu: string, ath?: string): string {
    const claims: Record<string, unknown> = { jti: `${this.jtiPrefix}${this.count++}`, htm, htu, iat: Math.floor(Date.now() / 1000) };
    if (ath !== undefined) claims.ath = ath;
    if (this.nonce !== undefined) claims.nonce = this.nonce;
    const input = `${this.header}.${base64url(claims)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }

  /** Keeps the nonce an answer gave (every answer to a DPoP request may carry a newer one). */
  heard(nonce: string | undefined): void {
    if (nonce) this.nonce = nonce;
  }
}
