import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { Logger } from '../observability/logger.js';
import { parseSecretStoreKeys, SecretSeal } from '../credentials/sealed-secrets.js';
import { SECRET_KINDS, SecretStore } from '../credentials/secret-store.js';
import { SqliteSecretRows } from '../credentials/sqlite-secret-rows.js';

/**
 * A deployment that had PostgreSQL as its record before the shared state moved there kept
 * its secrets in `DATA_DIR/secrets.sqlite`: private signing keys the record names, password
 * and client secret hashes. At its first start with the shared state in PostgreSQL they are
 * copied there (sealed as they go; a row already there wins), and the file is renamed so
 * that a secret deleted later is never brought back from it. Answers the rows copied.
 */
export async function importLocalSecrets(
  files: { secrets: string; keyFile: string },
  into: SecretStore,
  configuredKeys: Buffer[],
  logger?: Pick<Logger, 'info'>,
): Promise<number> {
  if (!existsSync(files.secrets)) return 0;
  // Rows from before sealing are plain; ones sealed under the data directory's own key open with it.
  const keys = existsSync(files.keyFile) ? [...configuredKeys, ...parseSecretStoreKeys(readFileSync(files.keyFile, 'utf8'))] : configuredKeys;
  const local = new SecretStore(new SqliteSecretRows(files.secrets), new SecretSeal(keys));
  let copied = 0;
  try {
    for (const kind of SECRET_KINDS) {
      for (const name of await local.names(kind)) {
        const value = await local.get(kind, name);
        if (value === undefined) continue;
        await into.putIfAbsent(kind, name, value);
        copied++;
      }
    }
  } finally {
    await local.close();
  }
  try {
    renameSync(files.secrets, `${files.secrets}.imported`);
  } catch (error) {
    // Another instance on the same directory imported it at the same time.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  logger?.info('copied the secrets of the data directory into PostgreSQL, where every instance reads them', { rows: copied, file: `${files.secrets}.imported` });
  return copied;
}
