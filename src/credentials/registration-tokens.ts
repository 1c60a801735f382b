import { randomBytes, randomUUID } from 'node:crypto';
import type { SecretStore } from './secret-store.js';
import { constantTimeEqual, sha256 } from '../domain/crypto.js';

/**
 * The bearer credentials of client registration, each shown once and kept only as its
 * SHA-256 in the secret store (256 random bits: a fast hash is as strong as a slow one):
 *
 * - initial access tokens (RFC 7591 section 3), made by an administrator with
 *   `oauth-admin registration-token create`: `<token id>.<random>`, stored under the id
 *   with the name of whom it was made for, as audit keys are (audit-keys.ts). The id, never
 *   the token, goes on record with each client registered with it.
 * - registration access tokens (RFC 7592 section 3), one per dynamically registered client,
 *   stored under its client_id: they let it read, update and delete its registration.
 */

export async function createInitialAccessToken(secrets: SecretStore, name: string): Promise<{ tokenId: string; token: string }> {
  const tokenId = randomUUID();
  const token = `${tokenId}.${randomBytes(32).toString('base64url')}`;
  await secrets.put('initial_access_token', tokenId, JSON.stringify({ name, hash: sha256(token) }));
  return { tokenId, token };
}

/** The token's id and whom it was made for, when it is one of ours; undefined otherwise. */
export async function checkInitialAccessToken(secrets: SecretStore, token: string): Promise<{ tokenId: string; name: string } | undefined> {
  const match = /^([0-9a-f-]{36})\.[A-Za-z0-9_-]{43}$/.exec(token);
  const stored = match ? await secrets.get('initial_access_token', match[1]) : undefined;
  if (!match || !stored) return undefined;
  const { name, hash } = JSON.parse(stored) as { name: string; hash: string };
  return constantTimeEqual(hash, sha256(token)) ? { tokenId: match[1], name } : undefined;
}

/** Whom an initial access token was made for, by its id (for listings); undefined once removed. */
export async function initialAccessTokenName(secrets: SecretStore, tokenId: string): Promise<string | undefined> {
  const stored = await secrets.get('initial_access_token', tokenId);
  return stored ? (JSON.parse(stored) as { name: string }).name : undefined;
}

export async function issueRegistrationAccessToken(secrets: SecretStore, clientId: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await secrets.put('registration_access_token', clientId, sha256(token));
  return token;
}

export async function checkRegistrationAccessToken(secrets: SecretStore, clientId: string, token: string): Promise<boolean> {
  const stored = await secrets.get('registration_access_token', clientId);
  return stored !== undefined && constantTimeEqual(stored, sha256(token));
}

export const forgetRegistrationAccessToken = (secrets: SecretStore, clientId: string): Promise<void> => secrets.delete('registration_access_token', clientId);
