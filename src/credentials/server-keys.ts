import type { SecretStore } from './secret-store.js';

/**
 * The server's own keys, each made once by the first instance to start and read by every
 * other: sealed cookies and CSRF tokens, sealed authorization and pushed requests, DPoP
 * nonces, device user codes and retried refresh tokens then mean the same on every
 * instance, so any step of a flow may land on any of them. Read once at start: they never change.
 */
export interface ServerKeys {
  csrf: Buffer;
  authorizationRequest: Buffer;
  pushedAuthorizationRequest: Buffer;
  dpopNonce: Buffer;
  deviceUserCode: Buffer;
  refreshSuccessor: Buffer;
}

/** The names they are kept under (unchanged from when each was read where it was used). */
const NAMES: Record<keyof ServerKeys, string> = {
  csrf: 'csrf',
  authorizationRequest: 'authorization-request',
  pushedAuthorizationRequest: 'pushed-authorization-request',
  dpopNonce: 'dpop-nonce',
  deviceUserCode: 'device-user-code',
  refreshSuccessor: 'refresh-successor',
};

export async function readServerKeys(secrets: SecretStore): Promise<ServerKeys> {
  const entries = await Promise.all(Object.entries(NAMES).map(async ([field, name]) => [field, await secrets.serverKey(name)] as const));
  return Object.fromEntries(entries) as unknown as ServerKeys;
}
