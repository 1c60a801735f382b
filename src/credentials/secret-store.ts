import { randomToken } from '../domain/crypto.js';
import type { SecretSeal } from './sealed-secrets.js';

export const SECRET_KINDS = ['password', 'client_secret', 'signing_key', 'server_secret', 'audit_key', 'initial_access_token', 'registration_access_token'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

/** Where the rows are kept: a SQLite file (one host) or PostgreSQL (every host). */
export interface SecretRows {
  get(kind: SecretKind, name: string): Promise<string | undefined>;
  put(kind: SecretKind, name: string, value: string): Promise<void>;
  /** Keeps the row already there: two instances making the same server key agree on the first. */
  putIfAbsent(kind: SecretKind, name: string, value: string): Promise<void>;
  delete(kind: SecretKind, name: string): Promise<void>;
  names(kind: SecretKind): Promise<string[]>;
  close(): Promise<void>;
}

/** What a stolen copy of the rows must not give away: keys that sign or seal. Hashes are safe as they are. */
const SEALED: ReadonlySet<SecretKind> = new Set(['signing_key', 'server_secret']);

/**
 * What must never enter an event: password hashes, client secret hashes, private signing
 * keys and the server's own keys. Private and server keys are sealed (AES-256-GCM, bound
 * to their kind and name) before they reach the rows, so a backup or a database dump
 * without the key gives none of them (docs/shared-state.md).
 */
export class SecretStore {
  /** Server keys never change once made: read once per process. */
  private readonly serverKeys = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly rows: SecretRows,
    private readonly seal: SecretSeal,
  ) {}

  async get(kind: SecretKind, name: string): Promise<string | undefined> {
    const value = await this.rows.get(kind, name);
    return value === undefined || !SEALED.has(kind) ? value : this.seal.open(value, `${kind}/${name}`);
  }

  put(kind: SecretKind, name: string, value: string): Promise<void> {
    return this.rows.put(kind, name, SEALED.has(kind) ? this.seal.seal(value, `${kind}/${name}`) : value);
  }

  delete(kind: SecretKind, name: string): Promise<void> {
    return this.rows.delete(kind, name);
  }

  /** Keeps a row already there (an import run twice, or by two instances at once). */
  putIfAbsent(kind: SecretKind, name: string, value: string): Promise<void> {
    return this.rows.putIfAbsent(kind, name, SEALED.has(kind) ? this.seal.seal(value, `${kind}/${name}`) : value);
  }

  /** Every row of a kind's names (for moving them elsewhere). */
  names(kind: SecretKind): Promise<string[]> {
    return this.rows.names(kind);
  }

  /**
   * Seals every sealed row again under the first key (after a new key was put first): the
   * old key may then be dropped. Answers how many rows were written.
   */
  async reseal(): Promise<number> {
    let written = 0;
    for (const kind of SEALED) {
      for (const name of await this.rows.names(kind)) {
        const value = await this.get(kind, name);
        if (value === undefined) continue;
        await this.put(kind, name, value);
        written++;
      }
    }
    return written;
  }

  /** A random key of the server's own (CSRF tokens, ...), made on first use by whichever instance comes first, and kept. */
  serverKey(name: string): Promise<Buffer> {
    let key = this.serverKeys.get(name);
    if (!key) {
      key = (async () => {
        await this.rows.putIfAbsent('server_secret', name, this.seal.seal(randomToken(32), `server_secret/${name}`));
        return Buffer.from((await this.get('server_secret', name))!, 'base64url');
      })();
      key.catch(() => this.serverKeys.delete(name));
      this.serverKeys.set(name, key);
    }
    return key;
  }

  close(): Promise<void> {
    return this.rows.close();
  }
}
