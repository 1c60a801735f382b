import type { Decider } from './decider.js';
import type { DPoPProofAccepted } from './events.js';
import { InvalidDpopProof, UseDpopNonce } from './oauth-errors.js';

/** Asymmetric only (RFC 9449 section 4.2): a proof shows a private key; `none` and HMAC show nothing. */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;

/** How far a proof's `iat` may be from now, either way: how long its jti must be remembered. */
export const DPOP_IAT_WINDOW_SECONDS = 60;

/** A proof whose signature checked out: its key's thumbprint and its claims. */
export interface DPoPProof {
  jkt: string;
  jti: string;
  htm: string;
  htu: string;
  iat: number;
  ath?: string;
  nonce?: string;
}

/** What the request a proof comes with says: method, URL, and the access token's hash when one is presented. */
export interface ProofExpectations {
  htm: string;
  htu: string;
  nowSeconds: number;
  accessTokenHash?: string;
  /** Whether a nonce is required, and which are good now; absent: none required. */
  nonceIsValid?: (nonce: string) => boolean;
}

/** RFC 9449 section 4.3: the URL without query and fragment, compared after normalisation. */
export function htuOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/** RFC 9449 section 4.3, checks 8 to 12 (the signature and header were checked when it was read). */
export function checkProof(proof: DPoPProof, expected: ProofExpectations): void {
  if (proof.htm !== expected.htm) throw new InvalidDpopProof('the DPoP proof is for another HTTP method (htm)');
  if (htuOf(proof.htu) === undefined || htuOf(proof.htu) !== htuOf(expected.htu)) throw new InvalidDpopProof('the DPoP proof is for another URL (htu)');
  if (Math.abs(expected.nowSeconds - proof.iat) > DPOP_IAT_WINDOW_SECONDS) throw new InvalidDpopProof('the DPoP proof is too old or from the future (iat)');
  if (expected.accessTokenHash !== undefined && proof.ath !== expected.accessTokenHash) throw new InvalidDpopProof('the DPoP proof is for another access token (ath)');
  if (expected.nonceIsValid && (proof.nonce === undefined || !expected.nonceIsValid(proof.nonce))) throw new UseDpopNonce('the DPoP proof must carry the server\'s current nonce');
}

/**
 * A proof is good once (RFC 9449 section 11.1). Its use is an event on a stream named by
 * the key and the jti, appended only where none exists: the store, shared by every
 * instance, remembers the jti, as it does client assertions'.
 */
export type DPoPProofCommand = { kind: 'AcceptDPoPProof'; jkt: string; expiresAt: Date };

export const dpopProofDecider: Decider<DPoPProofCommand, { used: boolean }, DPoPProofAccepted> = {
  initialState: { used: false },
  evolve: () => ({ used: true }),
  decide(command, state) {
    if (state.used) throw new InvalidDpopProof('this DPoP proof was already used');
    return [{ type: 'DPoPProofAccepted', data: { jkt: command.jkt, expiresAt: command.expiresAt.toISOString() } }];
  },
};
