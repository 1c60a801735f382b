/**
 * Seconds until fewer than `limit` of these (oldest first) fall within a window of
 * `windowSeconds` before a time: until the `limit`-th newest leaves it; 0 when there are
 * fewer now. What throttles and limits over a sliding window answer with.
 */
export function secondsUntilFewerThan(entries: ReadonlyArray<{ at: string }>, limit: number, windowSeconds: number, now: Date): number {
  if (entries.length < limit) return 0;
  const nth = Date.parse(entries[entries.length - limit].at);
  return Math.max(0, Math.ceil((nth + windowSeconds * 1000 - now.getTime()) / 1000));
}
