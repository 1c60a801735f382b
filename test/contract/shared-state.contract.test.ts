import { existsSync, readFileSync, statSync } from 'node:fs';
import { SqliteSecretRows } from '../../src/credentials/sqlite-secret-rows.js';
import { importLocalSecrets } from '../../src/shared-state/local-secrets-import.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config/config.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { openSharedState, type SharedState } from '../../src/shared-state/shared-state.js';
import { startPostgres, type PrivatePostgres } from '../support/postgres.js';

/**
 * The shared state behaves the same in SQLite files and in PostgreSQL: two "instances"
 * (two SharedStates on one directory, or one database) see each other's secrets, counts,
 * leases and checkpoints, and what must be sealed is sealed where it is kept.
 */
const KEY = Buffer.alloc(32, 3).toString('base64url');
const OTHER_KEY = Buffer.alloc(32, 4).toString('base64url');

interface Where {
  open(env?: Record<string, string>): SharedState;
  /** The raw value of a secret row, as a backup or a dump would hold it. */
  rawSecret(kind: string, name: string): Promise<string | undefined>;
}

let postgres: PrivatePostgres;
const dir = tempDir();
const opened: SharedState[] = [];
beforeAll(async () => {
  postgres = await startPostgres();
});
afterEach(async () => {
  for (const state of opened.splice(0)) await state.close();
});
afterAll(async () => {
  await postgres.stop();
  dir.remove();
});

let databases = 0;
const places: Array<[string, () => Promise<Where>]> = [
  [
    'SQLite files in the data directory',
    async () => {
      const dataDir = join(dir.path, `instance-${++databases}`);
      return {
        open: (env = {}) => {
          const state = openSharedState(loadConfig({ DATA_DIR: dataDir, ...env }));
          opened.push(state);
          return state;
        },
        rawSecret: async (kind, name) => {
          const db = new Database(join(dataDir, 'secrets.sqlite'), { readonly: true });
          try {
            return db.prepare<[string, string], { value: string }>('SELECT value FROM secrets WHERE kind = ? AND name = ?').get(kind, name)?.value;
          } finally {
            db.close();
          }
        },
      };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const name = `shared_${++databases}`;
      const url = await postgres.createDatabase(name);
      return {
        open: (env = {}) => {
          // Each "instance" has a data directory of its own: nothing may be shared through it.
          const state = openSharedState(loadConfig({ DATA_DIR: join(dir.path, `pg-instance-${Math.random()}`), DATABASE_URL: url, SECRET_STORE_KEY: KEY, ...env }));
          opened.push(state);
          return state;
        },
        rawSecret: async (kind, secretName) => (await postgres.query<{ value: string }>(name, 'SELECT value FROM secrets WHERE kind = $1 AND name = $2', [kind, secretName]))[0]?.value,
      };
    },
  ],
];

describe.each(places)('the shared state in %s', (_, place) => {
  it('keeps secrets every instance reads, private keys sealed at rest and bound to their row', async () => {
    const where = await place();
    const [a, b] = [where.open(), where.open()];
    const jwk = JSON.stringify({ kty: 'EC', crv: 'P-256', d: 'the-private-scalar', x: 'x', y: 'y' });
    await a.secrets().put('signing_key', 'kid-1', jwk);
    await a.secrets().put('client_secret', 'web', 'scrypt$hash');
    expect(await b.secrets().get('signing_key', 'kid-1')).toBe(jwk);
    expect(await b.secrets().get('client_secret', 'web')).toBe('scrypt$hash');

    const raw = await where.rawSecret('signing_key', 'kid-1');
    expect(raw).toMatch(/^sealed\.v1\./);
    expect(raw).not.toContain('the-private-scalar');
    // A hash needs no seal: it is kept as it is, and a rotation is seen at once by the other instance.
    expect(await where.rawSecret('client_secret', 'web')).toBe('scrypt$hash');
    await b.secrets().put('client_secret', 'web', 'scrypt$rotated');
    expect(await a.secrets().get('client_secret', 'web')).toBe('scrypt$rotated');
    await b.secrets().delete('client_secret', 'web');
    expect(await a.secrets().get('client_secret', 'web')).toBeUndefined();

    // A sealed value moved to another row does not open there.
    await a.secrets().put('signing_key', 'kid-2', 'another key');
    const sealed = await where.rawSecret('signing_key', 'kid-1');
    const moved = where.open();
    const rows = (moved.secrets() as unknown as { rows: { put(kind: string, name: string, value: string): Promise<void> } }).rows;
    await rows.put('signing_key', 'kid-2', sealed!);
    await expect(moved.secrets().get('signing_key', 'kid-2')).rejects.toThrow();
  });

  it('opens a sealed key only with a key it was given, old keys included', async () => {
    const where = await place();
    const first = where.open({ SECRET_STORE_KEY: KEY });
    await first.secrets().put('signing_key', 'kid-1', 'private');
    await expect(where.open({ SECRET_STORE_KEY: OTHER_KEY }).secrets().get('signing_key', 'kid-1')).rejects.toThrow(/sealed with a key this server was not given/);
    // The new key first seals; the old one still opens what it sealed.
    const both = where.open({ SECRET_STORE_KEY: `${OTHER_KEY},${KEY}` });
    expect(await both.secrets().get('signing_key', 'kid-1')).toBe('private');
    // Sealed again under the new key (oauth-admin keys reseal), the old key may go.
    await both.secrets().serverKey('csrf');
    expect(await both.secrets().reseal()).toBe(2);
    const renewed = where.open({ SECRET_STORE_KEY: OTHER_KEY });
    expect(await renewed.secrets().get('signing_key', 'kid-1')).toBe('private');
    expect(await renewed.secrets().serverKey('csrf')).toHaveLength(32);
    await expect(where.open({ SECRET_STORE_KEY: KEY }).secrets().get('signing_key', 'kid-1')).rejects.toThrow(/not given/);
  });

  it('makes each server key once, the same for every instance that asks, even at once', async () => {
    const where = await place();
    const instances = [where.open(), where.open(), where.open()];
    const keys = await Promise.all(instances.map((state) => state.secrets().serverKey('csrf')));
    expect(keys[0]).toHaveLength(32);
    for (const key of keys) expect(key.equals(keys[0])).toBe(true);
    expect((await where.open().secrets().serverKey('csrf')).equals(keys[0])).toBe(true);
    expect((await instances[0].secrets().serverKey('dpop-nonce')).equals(keys[0])).toBe(false);
  });

  it('counts by address across instances, within the window only', async () => {
    const where = await place();
    const window = 60_000;
    const [a, b] = [where.open().addressCounts('address_failures', window), where.open().addressCounts('address_failures', window)];
    const other = where.open().addressCounts('address_registrations', window);
    const now = Date.parse('2026-12-04T10:00:00Z');
    await a.record('192.0.2.1', now - window - 1);
    await a.record('192.0.2.1', now - 1000);
    await b.record('192.0.2.1', now);
    await other.record('192.0.2.1', now);
    expect(await b.within('192.0.2.1', now)).toEqual([now - 1000, now]);
    expect(await a.retryAfter('192.0.2.1', 2, now)).toBe(59);
    expect(await a.retryAfter('192.0.2.1', 3, now)).toBe(0);
    expect(await other.within('192.0.2.1', now)).toEqual([now]);
  });

  it('gives a lease to one holder at a time, and to another once it runs out', async () => {
    const where = await place();
    const [a, b] = [where.open().lease('relay', 'a', 400), where.open().lease('relay', 'b', 400)];
    const elsewhere = where.open().lease('sweep', 'b', 400);
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect(await elsewhere.tryAcquire()).toBe(true);
    expect(await a.tryAcquire()).toBe(true);
    // a stops renewing (killed): b takes over after the lease time, and a, back, does not get it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await b.tryAcquire()).toBe(true);
    expect(await a.tryAcquire()).toBe(false);
    await b.release();
    expect(await a.tryAcquire()).toBe(true);
    await a.release();
    await elsewhere.release();
  });

  it('shares the relay checkpoint, which never goes back', async () => {
    const where = await place();
    const [a, b] = [where.open().checkpoints(), where.open().checkpoints()];
    expect(await a.get('relay')).toBe(0);
    await a.set('relay', 40);
    await b.set('relay', 25);
    expect(await b.get('relay')).toBe(40);
    await a.close();
    await b.close();
  });

  it('keeps snapshots any instance may start from', async () => {
    const where = await place();
    const [a, b] = [where.open().snapshots(), where.open().snapshots()];
    await a.put({ stream: 'grant-1', kind: 'grant/5', revision: 600, eventId: 'e600', state: { scopes: ['openid'] } });
    expect(await b.get('grant-1')).toEqual({ stream: 'grant-1', kind: 'grant/5', revision: 600, eventId: 'e600', state: { scopes: ['openid'] } });
    await b.put({ stream: 'grant-1', kind: 'grant/5', revision: 1200, eventId: 'e1200', state: {} });
    expect((await a.get('grant-1'))?.revision).toBe(1200);
    expect(await a.get('grant-2')).toBeUndefined();
  });
});

describe('a deployment whose secrets were in its data directory, its record already in PostgreSQL', () => {
  it('has them copied into PostgreSQL at its first start there, sealed, and the file set aside so nothing comes back from it', async () => {
    const url = await postgres.createDatabase('upgraded');
    const dataDir = join(dir.path, 'upgraded');
    // As the build before wrote them: plain rows in secrets.sqlite.
    const old = new SqliteSecretRows(join(dataDir, 'secrets.sqlite'));
    await old.put('signing_key', 'kid-old', '{"kty":"EC","d":"old-private"}');
    await old.put('password', 'alice', 'scrypt$alice');
    await old.put('client_secret', 'web', 'scrypt$web');
    await old.close();
    const state = openSharedState(loadConfig({ DATA_DIR: dataDir, DATABASE_URL: url, SECRET_STORE_KEY: KEY }));
    opened.push(state);
    // A row already in PostgreSQL wins over the file's.
    await state.secrets().put('client_secret', 'web', 'scrypt$rotated-since');
    expect(await importLocalSecrets({ secrets: join(dataDir, 'secrets.sqlite'), keyFile: join(dataDir, 'secret-store.key') }, state.secrets(), [Buffer.from(KEY, 'base64url')])).toBe(3);
    expect(await state.secrets().get('signing_key', 'kid-old')).toBe('{"kty":"EC","d":"old-private"}');
    expect(await state.secrets().get('password', 'alice')).toBe('scrypt$alice');
    expect(await state.secrets().get('client_secret', 'web')).toBe('scrypt$rotated-since');
    const [raw] = await postgres.query<{ value: string }>('upgraded', "SELECT value FROM secrets WHERE kind = 'signing_key'");
    expect(raw.value).toMatch(/^sealed\.v1\./);
    expect(existsSync(join(dataDir, 'secrets.sqlite'))).toBe(false);
    expect(existsSync(join(dataDir, 'secrets.sqlite.imported'))).toBe(true);
    // Deleted in PostgreSQL afterwards: the next start brings nothing back.
    await state.secrets().delete('password', 'alice');
    expect(await importLocalSecrets({ secrets: join(dataDir, 'secrets.sqlite'), keyFile: join(dataDir, 'secret-store.key') }, state.secrets(), [])).toBe(0);
    expect(await state.secrets().get('password', 'alice')).toBeUndefined();
  });
});

describe('the PostgreSQL secret store without a configured key', () => {
  it('refuses to open: every instance must be given the same key', async () => {
    const url = await postgres.createDatabase('keyless');
    const state = openSharedState(loadConfig({ DATA_DIR: join(dir.path, 'keyless-pg'), DATABASE_URL: url }));
    opened.push(state);
    expect(() => state.secrets()).toThrow(/DATABASE_URL needs SECRET_STORE_KEY or SECRET_STORE_KEY_FILE/);
  });
});

describe('the SQLite secret store without a configured key', () => {
  it('makes one of its own beside the secrets, readable by its owner only, and keeps it', async () => {
    const dataDir = join(dir.path, 'keyless');
    const state = openSharedState(loadConfig({ DATA_DIR: dataDir }));
    opened.push(state);
    await state.secrets().put('signing_key', 'kid', 'private');
    const keyFile = join(dataDir, 'secret-store.key');
    expect(readFileSync(keyFile, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const again = openSharedState(loadConfig({ DATA_DIR: dataDir }));
    opened.push(again);
    expect(await again.secrets().get('signing_key', 'kid')).toBe('private');
  });
});
