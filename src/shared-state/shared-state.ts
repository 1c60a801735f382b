import { join } from 'node:path';
import type { CheckpointStore } from '../checkpoints/checkpoint-store.js';
import type { Lease } from '../checkpoints/lease.js';
import { PostgresCheckpointStore } from '../checkpoints/postgres-checkpoint-store.js';
import { PostgresLease } from '../checkpoints/postgres-lease.js';
import { SqliteCheckpointStore } from '../checkpoints/sqlite-checkpoint-store.js';
import { SqliteLease } from '../checkpoints/sqlite-lease.js';
import type { Config } from '../config/config.js';
import { SqliteAddressFailures, type AddressCounter, type AddressFailures } from '../credentials/address-failures.js';
import { PostgresAddressFailures } from '../credentials/postgres-address-failures.js';
import { PostgresSecretRows } from '../credentials/postgres-secret-rows.js';
import { SecretSeal, secretStoreKeys } from '../credentials/sealed-secrets.js';
import { SecretStore } from '../credentials/secret-store.js';
import { SqliteSecretRows } from '../credentials/sqlite-secret-rows.js';
import type { Logger } from '../observability/logger.js';
import { PostgresSnapshotStore } from '../snapshots/postgres-snapshot-store.js';
import type { SnapshotStore } from '../snapshots/snapshot-store.js';
import { SqliteSnapshotStore } from '../snapshots/sqlite-snapshot-store.js';
import { importLocalSecrets } from './local-secrets-import.js';
import { PostgresConnection } from './postgres-connection.js';

/**
 * What the instances of one deployment share besides the record: secrets, leases, the
 * relay's checkpoint, the counts by address, snapshots. In SQLite files in the data
 * directory (one host), or in PostgreSQL with DATABASE_URL (every host; docs/shared-state.md).
 * Each part is opened when first asked for: the command line needs few of them.
 */
export interface SharedState {
  readonly where: 'sqlite' | 'postgresql';
  secrets(): SecretStore;
  snapshots(): SnapshotStore;
  addressCounts(counter: AddressCounter, windowMs: number): AddressFailures;
  checkpoints(): CheckpointStore;
  lease(name: string, holder: string, ttlMs: number): Lease;
  /**
   * With PostgreSQL: copies the data directory's secrets from before the shared state moved
   * there (local-secrets-import.ts). Answers the rows copied; none on SQLite, where they are.
   */
  importLocalSecrets(): Promise<number>;
  /** Throws when the shared state cannot be reached (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}

export function openSharedState(config: Config, logger?: Pick<Logger, 'error' | 'info'>): SharedState {
  const opened: Array<{ close(): unknown }> = [];
  const keep = <T extends { close(): unknown }>(part: T): T => (opened.push(part), part);
  const once = <T>(make: () => T) => {
    let made: T | undefined;
    return () => (made ??= make());
  };
  const closeParts = async () => {
    for (const part of opened.reverse()) await part.close();
  };
  if (config.databaseUrl) {
    const db = new PostgresConnection(config.databaseUrl, logger);
    const keys = once(() => secretStoreKeys({ key: config.secretStoreKey, keyFile: config.secretStoreKeyFile }));
    const secrets = once(() => keep(new SecretStore(new PostgresSecretRows(db), new SecretSeal(keys()))));
    return {
      where: 'postgresql',
      secrets,
      snapshots: once(() => keep(new PostgresSnapshotStore(db))),
      addressCounts: (counter, windowMs) => keep(new PostgresAddressFailures(db, windowMs, counter)),
      checkpoints: () => new PostgresCheckpointStore(db),
      lease: (name, holder, ttlMs) => new PostgresLease(db, name, holder, ttlMs),
      importLocalSecrets: () => importLocalSecrets({ secrets: join(config.dataDir, 'secrets.sqlite'), keyFile: join(config.dataDir, 'secret-store.key') }, secrets(), keys(), logger),
      check: async () => void (await db.query('SELECT 1 FROM secrets LIMIT 1')),
      async close() {
        await closeParts();
        await db.close();
      },
    };
  }
  const file = (name: string) => join(config.dataDir, name);
  return {
    where: 'sqlite',
    secrets: once(() =>
      keep(new SecretStore(new SqliteSecretRows(file('secrets.sqlite')), new SecretSeal(secretStoreKeys({ key: config.secretStoreKey, keyFile: config.secretStoreKeyFile }, file('secret-store.key'))))),
    ),
    snapshots: once(() => keep(new SqliteSnapshotStore(file('snapshots.sqlite')))),
    addressCounts: (counter, windowMs) => keep(new SqliteAddressFailures(file('throttle.sqlite'), windowMs, counter)),
    checkpoints: () => new SqliteCheckpointStore(file('checkpoints.sqlite')),
    lease: (name, holder, ttlMs) => new SqliteLease(file('checkpoints.sqlite'), name, holder, ttlMs),
    importLocalSecrets: async () => 0,
    // Files on this host: a failing one shows in the request that reads it.
    check: async () => undefined,
    close: closeParts,
  };
}
