import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { sha256 } from '../domain/crypto.js';
import { DPOP_ALGORITHMS, type DPoPProof } from '../domain/dpop-proof.js';
import { InvalidDpopProof } from '../domain/oauth-errors.js';

/** Members only a private or symmetric key has (RFC 7517, RFC 7518 section 6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** Ample for any proof a client makes; a bound on what is parsed. */
const MAX_PROOF_LENGTH = 8192;

type Algorithm = (typeof DPOP_ALGORITHMS)[number];

/**
 * How each algorithm verifies with node:crypto, and the key it takes. A proof is read on
 * every DPoP request, at the token endpoint and at the resource server: node:crypto's
 * one-shot verify costs a third of jose's JWT verification with an embedded key, and the
 * checks a JWS library adds are few and all here.
 */
const VERIFIERS: Record<Algorithm, { keyFits: (jwk: Record<string, unknown>) => boolean; check: (data: Buffer, key: KeyObject, signature: Buffer) => boolean }> = {
  ES256: { keyFits: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256', check: (data, key, sig) => verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig) },
  ES384: { keyFits: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-384', check: (data, key, sig) => verify('sha384', data, { key, dsaEncoding: 'ieee-p1363' }, sig) },
  PS256: { keyFits: rsaOf2048, check: (data, key, sig) => verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig) },
  RS256: { keyFits: rsaOf2048, check: (data, key, sig) => verify('sha256', data, key, sig) },
  EdDSA: { keyFits: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519', check: (data, key, sig) => verify(null, data, key, sig) },
};

/** RFC 7518 section 3.3: RSA keys of 2048 bits or more (a 256-byte modulus is 342 base64url characters). */
function rsaOf2048(jwk: Record<string, unknown>): boolean {
  return jwk.kty === 'RSA' && typeof jwk.n === 'string' && jwk.n.length >= 342;
}

/** RFC 7638: the SHA-256 of the key's required members, in lexicographic order, without whitespace. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members = jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : jwk.kty === 'RSA' ? ['e', 'kty', 'n'] : ['crv', 'kty', 'x'];
  if (!members.every((member) => typeof jwk[member] === 'string')) throw new InvalidDpopProof('the DPoP proof\'s jwk lacks a member its type needs');
  return sha256(`{${members.map((member) => `"${member}":${JSON.stringify(jwk[member])}`).join(',')}}`);
}

function jsonPart(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
  return value as Record<string, unknown>;
}

/**
 * Reads a DPoP header (RFC 9449 section 4.3, checks 1 to 7): one well-formed JWT of type
 * `dpop+jwt`, signed with an asymmetric algorithm by the public key in its own header,
 * with the claims a proof has. What it is a proof for is checked by checkProof.
 */
export function readDPoPProof(header: string | undefined): DPoPProof {
  if (header === undefined || header === '') throw new InvalidDpopProof('a DPoP proof is required');
  // Node joins repeated headers with ", ": a JWT has no comma, so one means two proofs.
  if (header.length > MAX_PROOF_LENGTH || header.includes(',')) throw new InvalidDpopProof('exactly one DPoP proof is allowed');
  const parts = header.split('.');
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) throw new InvalidDpopProof('the DPoP proof is malformed');
  let protectedHeader: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    protectedHeader = jsonPart(parts[0]);
    payload = jsonPart(parts[1]);
  } catch {
    throw new InvalidDpopProof('the DPoP proof is malformed');
  }
  if (protectedHeader.typ !== 'dpop+jwt') throw new InvalidDpopProof('a DPoP proof has typ dpop+jwt');
  const alg = protectedHeader.alg as Algorithm;
  const verifier = Object.hasOwn(VERIFIERS, String(alg)) ? VERIFIERS[alg] : undefined;
  if (!verifier) throw new InvalidDpopProof(`a DPoP proof is signed with one of ${DPOP_ALGORITHMS.join(', ')}`);
  // RFC 7515 section 4.1.11: an extension the server must understand, and does not.
  if (protectedHeader.crit !== undefined) throw new InvalidDpopProof('the DPoP proof has header parameters this server does not understand');
  const jwk = protectedHeader.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new InvalidDpopProof('a DPoP proof carries its public key (jwk)');
  const publicJwk = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in publicJwk)) throw new InvalidDpopProof('the DPoP proof\'s jwk must be a public key');
  if (!verifier.keyFits(publicJwk)) throw new InvalidDpopProof(`the DPoP proof's jwk is not a key for ${alg}`);
  let signed: boolean;
  try {
    const key = createPublicKey({ key: publicJwk, format: 'jwk' });
    signed = verifier.check(Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], 'base64url'));
  } catch {
    signed = false;
  }
  if (!signed) throw new InvalidDpopProof('the DPoP proof\'s signature does not verify');
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new InvalidDpopProof('a DPoP proof has a jti');
  if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number' || !Number.isFinite(iat)) throw new InvalidDpopProof('a DPoP proof has htm, htu and iat');
  if ((ath !== undefined && typeof ath !== 'string') || (nonce !== undefined && typeof nonce !== 'string')) throw new InvalidDpopProof('ath and nonce are strings');
  return {
    jkt: jwkThumbprint(publicJwk),
    jti,
    htm,
    htu,
    iat,
    ...(ath !== undefined ? { ath } : {}),
    ...(nonce !== undefined ? { nonce } : {}),
  };
}
