import type { SignedIn } from '../domain/grant.js';
import { openJson, sealJson } from '../http/sealed-json.js';

/**
 * A device verification on its way to the user's decision: the grant the user code found
 * (and the code's hash, which the decision must present again), and once someone signed in
 * for it, who. Carried in the login and approval links as held authorizations are
 * (held-authorization.ts): sealed under the server's key for this browser session alone,
 * in a context of its own, so neither kind of link ever opens as the other.
 */
export interface HeldDeviceVerification {
  grantId: string;
  userCodeHash: string;
  signedIn?: SignedIn;
}

const context = (sessionId: string) => `device-verification.${sessionId}`;
const SEALED = /^[A-Za-z0-9_-]{40,4096}$/;

export const sealHeldDeviceVerification = (key: Buffer, sessionId: string, held: HeldDeviceVerification): string => sealJson(key, context(sessionId), held);

/** The held verification, if this server sealed it for this browser session; undefined for anything else. */
export function openHeldDeviceVerification(key: Buffer, sessionId: string, sealed: string | undefined): HeldDeviceVerification | undefined {
  if (!sealed || !SEALED.test(sealed)) return undefined;
  return openJson<HeldDeviceVerification>(key, context(sessionId), sealed);
}
