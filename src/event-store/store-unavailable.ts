/**
 * A store (the record, or the shared state) that cannot be reached right now: the server
 * answers 503 temporarily_unavailable and /readyz says not ready, never 500, and tries
 * again at the next request. Nothing was written that the caller may count on.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(readonly store: string, cause?: unknown) {
    super(`${store} cannot be reached`, { cause });
  }
}

/**
 * Socket errors, and PostgreSQL's SQLSTATE classes 08 (connection) and 57P (shutdown, starting
 * up); 57014, a statement cancelled at its statement_timeout (a stuck server or lock, bounded so
 * that the caller is answered); 53300, no connection slot left; 25006, a write reaching a server
 * that became a standby in a failover.
 */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', '57014', '53300', '25006']);

export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  const message = (error as { message?: unknown })?.message;
  // pg's own words for a socket that went away under a query, a pool that cannot connect, or a query past its query_timeout.
  return typeof message === 'string' && /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout/i.test(message);
}

/** Runs `work`, turning a lost connection into StoreUnavailableError and leaving every other error as it was. */
export async function reachingStore<T>(store: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isUnreachable(error) ? new StoreUnavailableError(store, error) : error;
  }
}
