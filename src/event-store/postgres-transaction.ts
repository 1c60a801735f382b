import type pg from 'pg';
import { isUnreachable, reachingStore, StoreUnavailableError } from './store-unavailable.js';

/**
 * One transaction on a pooled connection, as the record and the shared state both run
 * them. A connection that failed is destroyed, never given back (the server rolls back
 * what it had open when the socket goes), and the failure becomes StoreUnavailableError
 * naming `store`. `sent.commit` tells the caller whether COMMIT had gone out when it
 * failed: then the server may have committed, and nobody can know until it is reachable again.
 */
export async function inTransaction<T>(pool: pg.Pool, store: string, work: (client: pg.PoolClient) => Promise<T>, sent = { commit: false }): Promise<T> {
  const client = await reachingStore(store, () => pool.connect());
  // A socket that fails is also reported as an 'error' on the client, which the pool
  // listens for only while the client is idle: unheard, it would end the process.
  const onError = () => undefined;
  client.on('error', onError);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    sent.commit = true;
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A broken connection gets no ROLLBACK: it would only wait out another timeout.
    if (isUnreachable(error)) {
      broken = error as Error;
      throw new StoreUnavailableError(store, error);
    }
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
