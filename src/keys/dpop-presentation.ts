import { checkProof, DPOP_IAT_WINDOW_SECONDS } from '../domain/dpop-proof.js';
import { InvalidDpopProof } from '../domain/oauth-errors.js';
import { readDPoPProof } from './dpop-proof-reader.js';

/**
 * The proofs that come with DPoP-bound access tokens at a protected resource (RFC 9449
 * section 7): each by the token's key, for this method, URL and token, fresh, and used
 * once. A resource server appends no events, so it remembers the proofs it has seen
 * itself, for as long as they could be presented (the iat window): per instance, bounded.
 */
export class PresentationProofs {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = 100_000) {}

  async check(header: string | undefined, expected: { htm: string; htu: string; accessTokenHash: string; jkt: string }): Promise<void> {
    const proof = readDPoPProof(header);
    const nowMs = Date.now();
    checkProof(proof, { htm: expected.htm, htu: expected.htu, accessTokenHash: expected.accessTokenHash, nowSeconds: Math.floor(nowMs / 1000) });
    if (proof.jkt !== expected.jkt) throw new InvalidDpopProof('the DPoP proof is signed by another key than the token is bound to');
    const key = `${proof.jkt}\u0000${proof.jti}`;
    const until = this.seen.get(key);
    if (until !== undefined && until > nowMs) throw new InvalidDpopProof('this DPoP proof was already used');
    this.remember(key, (proof.iat + DPOP_IAT_WINDOW_SECONDS) * 1000, nowMs);
  }

  private remember(key: string, untilMs: number, nowMs: number): void {
    if (this.seen.size >= this.capacity) {
      // Insertion order is about expiry order: drop what ran out, else the oldest.
      for (const [each, until] of this.seen) {
        if (until > nowMs && this.seen.size < this.capacity) break;
        this.seen.delete(each);
      }
    }
    this.seen.set(key, untilMs);
  }
}
