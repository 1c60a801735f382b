import type { Context } from 'koa';
import type { Ports } from '../commands/ports.js';
import { ConcurrencyConflict, decideAndAppend } from '../cqrs/decide-and-append.js';
import { sha256 } from '../domain/crypto.js';
import { checkProof, DPOP_IAT_WINDOW_SECONDS, dpopProofDecider } from '../domain/dpop-proof.js';
import { streams } from '../domain/events.js';
import { InvalidDpopProof } from '../domain/oauth-errors.js';
import type { DPoPNonces } from '../keys/dpop-nonces.js';
import { readDPoPProof } from '../keys/dpop-proof-reader.js';
import { contextOf } from './request-context.js';

/**
 * DPoP at the authorization server's own endpoints (RFC 9449 sections 5 and 10.1): a
 * request's proof, if it sent one, checked for this method and URL, with the server's
 * current nonce when nonces are on, and used once on every instance (an event on the
 * proof's own stream, as client assertions). Answers with the key's thumbprint, to which
 * the tokens are then bound.
 */
export class EndpointProofs {
  constructor(
    private readonly ports: Pick<Ports, 'streams'>,
    private readonly issuer: string,
    private readonly nonces: DPoPNonces | undefined,
  ) {}

  async keyOf(ctx: Context, path: string): Promise<string | undefined> {
    const header = ctx.get('dpop');
    if (header === '') return undefined;
    // A fresh nonce on every answer to a DPoP request, the error included (RFC 9449 section 8).
    if (this.nonces) ctx.set('DPoP-Nonce', this.nonces.current());
    const proof = readDPoPProof(header);
    const nonces = this.nonces;
    checkProof(proof, { htm: ctx.method, htu: `${this.issuer}${path}`, nowSeconds: Math.floor(Date.now() / 1000), ...(nonces ? { nonceIsValid: (nonce) => nonces.isValid(nonce) } : {}) });
    const command = { kind: 'AcceptDPoPProof' as const, jkt: proof.jkt, expiresAt: new Date((proof.iat + DPOP_IAT_WINDOW_SECONDS) * 1000) };
    try {
      await decideAndAppend(this.ports.streams, streams.dpopProof(sha256(`${proof.jkt}\u0000${proof.jti}`)), dpopProofDecider, command, contextOf(ctx), { newStream: true });
    } catch (error) {
      // Two requests with one proof at once: whichever lost finds it used.
      if (error instanceof ConcurrencyConflict) throw new InvalidDpopProof('this DPoP proof was already used');
      throw error;
    }
    return proof.jkt;
  }
}
