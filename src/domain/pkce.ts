import { constantTimeEqual, sha256 } from './crypto.js';

// RFC 7636 section 4.1: 43 to 128 characters of the unreserved set.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
// An S256 challenge is the base64url of a SHA-256 digest: exactly 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export const isValidCodeVerifier = (verifier: string): boolean => VERIFIER.test(verifier);
export const isValidS256Challenge = (challenge: string): boolean => S256_CHALLENGE.test(challenge);

export function verifiesS256(verifier: string, challenge: string): boolean {
  return isValidCodeVerifier(verifier) && constantTimeEqual(sha256(verifier), challenge);
}
