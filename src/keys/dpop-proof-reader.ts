import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { DPOP_ALGORITHMS, type DPoPProof } from '../domain/dpop-proof.js';
import { InvalidDpopProof } from '../domain/oauth-errors.js';

/** Members only a private or symmetric key has (RFC 7517, RFC 7518 section 6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** Ample for any proof a client makes; a bound on what is parsed. */
const MAX_PROOF_LENGTH = 8192;

/**
 * Reads a DPoP header (RFC 9449 section 4.3, checks 1 to 7): one well-formed JWT of type
 * `dpop+jwt`, signed with an asymmetric algorithm by the public key in its own header,
 * with the claims a proof has. What it is a proof for is checked by checkProof.
 */
export async function readDPoPProof(header: string | undefined): Promise<DPoPProof> {
  if (header === undefined || header === '') throw new InvalidDpopProof('a DPoP proof is required');
  // Node joins repeated headers with ", ": a JWT has no comma, so one means two proofs.
  if (header.length > MAX_PROOF_LENGTH || header.includes(',')) throw new InvalidDpopProof('exactly one DPoP proof is allowed');
  let jwk: JWK;
  try {
    const protectedHeader = decodeProtectedHeader(header);
    if (protectedHeader.typ !== 'dpop+jwt') throw new InvalidDpopProof('a DPoP proof has typ dpop+jwt');
    if (!(DPOP_ALGORITHMS as readonly string[]).includes(String(protectedHeader.alg))) throw new InvalidDpopProof(`a DPoP proof is signed with one of ${DPOP_ALGORITHMS.join(', ')}`);
    if (typeof protectedHeader.jwk !== 'object' || protectedHeader.jwk === null) throw new InvalidDpopProof('a DPoP proof carries its public key (jwk)');
    jwk = protectedHeader.jwk;
  } catch (error) {
    if (error instanceof InvalidDpopProof) throw error;
    throw new InvalidDpopProof('the DPoP proof is malformed');
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) throw new InvalidDpopProof('the DPoP proof\'s jwk must be a public key');
  let payload;
  try {
    ({ payload } = await jwtVerify(header, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGORITHMS] }));
  } catch {
    throw new InvalidDpopProof('the DPoP proof\'s signature does not verify');
  }
  const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new InvalidDpopProof('a DPoP proof has a jti');
  if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number') throw new InvalidDpopProof('a DPoP proof has htm, htu and iat');
  if ((ath !== undefined && typeof ath !== 'string') || (nonce !== undefined && typeof nonce !== 'string')) throw new InvalidDpopProof('ath and nonce are strings');
  return {
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    jti,
    htm,
    htu,
    iat,
    ...(ath !== undefined ? { ath: ath as string } : {}),
    ...(nonce !== undefined ? { nonce: nonce as string } : {}),
  };
}
