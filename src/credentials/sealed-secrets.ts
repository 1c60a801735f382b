import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const PREFIX = 'sealed.v1.';

/** A key is 32 bytes, written base64url (or base64); several, comma- or line-separated, let an old key still open what it sealed. */
export function parseSecretStoreKeys(text: string): Buffer[] {
  const keys = text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((part) => Buffer.from(part.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url'));
  if (keys.length === 0) throw new Error('no key given');
  if (keys.some((key) => key.length !== 32)) throw new Error('each key must be 32 bytes, base64url (openssl rand -base64 32)');
  return keys;
}

/**
 * AES-256-GCM under the secret store key, each value bound to its row (`kind/name` as
 * associated data): a sealed value copied to another row does not open. The first key
 * seals; any of them opens, named by the first bytes of its hash, so a key can be replaced
 * by putting the new one first and keeping the old one until every row was written again.
 */
export class SecretSeal {
  private readonly byId: Map<string, Buffer>;
  private readonly sealingId: string;

  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error('the secret store needs a key');
    this.byId = new Map(keys.map((key) => [createHash('sha256').update(key).digest('base64url').slice(0, 8), key]));
    this.sealingId = [...this.byId.keys()][0];
  }

  seal(plaintext: string, row: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.byId.get(this.sealingId)!, iv).setAAD(Buffer.from(row));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${this.sealingId}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  /** A value written before sealing existed (no prefix) is read as it is, and sealed when next written. */
  open(value: string, row: string): string {
    if (!value.startsWith(PREFIX)) return value;
    const [id, iv, sealed] = value.slice(PREFIX.length).split('.');
    const key = this.byId.get(id);
    if (!key) throw new Error(`a secret (${row}) is sealed with a key this server was not given (id ${id}): set SECRET_STORE_KEY to include it`);
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(row));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
  }
}

/**
 * The key from SECRET_STORE_KEY or SECRET_STORE_KEY_FILE. Without either, a SQLite secret
 * store makes one beside itself (`fallbackFile`, owner-only) so one machine needs no set-up;
 * a shared database gets none, since every instance must hold the same key.
 */
export function secretStoreKeys(given: { key: string | null; keyFile: string | null }, fallbackFile?: string): Buffer[] {
  if (given.key) return parseSecretStoreKeys(given.key);
  if (given.keyFile) return parseSecretStoreKeys(readFileSync(given.keyFile, 'utf8'));
  // Asked for only by what opens the secret store: an auditor reading the record needs no key.
  if (!fallbackFile) {
    throw new Error('DATABASE_URL needs SECRET_STORE_KEY or SECRET_STORE_KEY_FILE: private keys in PostgreSQL are sealed with a key every instance is given (openssl rand -base64 32)');
  }
  if (!existsSync(fallbackFile)) {
    // 'wx': two instances starting at once on one directory keep the first one's key.
    try {
      writeFileSync(fallbackFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return parseSecretStoreKeys(readFileSync(fallbackFile, 'utf8'));
}
