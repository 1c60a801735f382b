/**
 * DATABASE_URL as `pg` takes it: `postgres://` or `postgresql://[user[:password]@]host[:port]/database[?...]`.
 * Problems are named without the URL itself: it may hold a password.
 */
export function databaseUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return 'must be a postgres:// or postgresql:// URL (not echoed: it may hold a password)';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return `must be a postgres:// or postgresql:// URL, not ${url.protocol}//`;
  if (!url.hostname && !url.searchParams.has('host')) return 'must name a host (postgres://user:password@host:5432/database)';
  return undefined;
}

/** Host, port and database, for a start-up line: never the credentials or the options. */
export function databaseOf(raw: string): string {
  try {
    const url = new URL(raw.trim());
    return `${url.host}${url.pathname}`;
  } catch {
    return '(unparsed DATABASE_URL)';
  }
}
