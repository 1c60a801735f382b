import { randomBytes, randomUUID } from 'node:crypto';
import type { SecretStore } from './secret-store.js';
import { constantTimeEqual, sha256 } from '../domain/crypto.js';

/**
 * Credentials for the read-only audit API: `<key id>.<256 random bits>`, shown once,
 * kept as SHA-256 in the secret store under the key id.
 */
export async function createAuditKey(secrets: SecretStore, name: string): Promise<{ keyId: string; key: string }> {
  const keyId = randomUUID();
  const key = `${keyId}.${randomBytes(32).toString('base64url')}`;
  await secrets.put('audit_key', keyId, JSON.stringify({ name, hash: sha256(key) }));
  return { keyId, key };
}

/** The auditor's name when the key is one of ours, undefined otherwise. */
export async function checkAuditKey(secrets: SecretStore, key: string): Promise<string | undefined> {
  const match = /^([0-9a-f-]{36})\.[A-Za-z0-9_-]{43}$/.exec(key);
  const stored = match ? await secrets.get('audit_key', match[1]) : undefined;
  if (!stored) return undefined;
  const { name, hash } = JSON.parse(stored) as { name: string; hash: string };
  return constantTimeEqual(hash, sha256(key)) ? name : undefined;
}
