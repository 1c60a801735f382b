import type { RecordedEvent } from './event-envelope.js';

/** One entry of a raw page of a log: every entry the store holds, ours or its own. */
export interface RawEntry<Cursor> {
  /** Where a read starting at this entry begins (the store's own position). */
  cursor: Cursor;
  /** Its place in the log as a number, to tell an entry seen already. */
  position: number;
  /** Ours, as recorded; undefined for what the store keeps for itself (system events). */
  event: RecordedEvent | undefined;
}

/** Up to `maxCount` raw entries from `from` on (inclusive or not: an entry seen already is skipped). */
export type PageSource<Cursor> = (from: Cursor, maxCount: number) => Promise<Array<RawEntry<Cursor>>>;

/**
 * Our events in log order from `from`, read page after page past entries that are not ours:
 * a page full of the store's own events (on EventStoreDB, `$stats`, scavenges, checkpoints)
 * is not the end of the log. The raw page's last entry, not the last event kept, says where
 * the next page starts, and only a short raw page is the end. The caller stops iterating
 * once it has what it needs.
 */
export async function* keptEvents<Cursor>(source: PageSource<Cursor>, from: Cursor, pageSize: number): AsyncGenerator<RecordedEvent> {
  if (pageSize < 2) throw new RangeError('a page must hold at least two entries: a read from a position may give that position again');
  let cursor = from;
  let boundary: number | undefined;
  for (;;) {
    const page = await source(cursor, pageSize);
    let progressed = false;
    for (const entry of page) {
      if (entry.position === boundary) continue;
      progressed = true;
      if (entry.event) yield entry.event;
    }
    if (page.length < pageSize || !progressed) return;
    const last = page[page.length - 1];
    cursor = last.cursor;
    boundary = last.position;
  }
}

/** Up to `limit` of our events after position `after`, however many of the store's own lie between. */
export async function readKept<Cursor>(source: PageSource<Cursor>, from: Cursor, after: number, limit: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  if (limit <= 0) return events;
  for await (const event of keptEvents(source, from, Math.max(2, limit + 1))) {
    if (event.position <= after) continue;
    events.push(event);
    if (events.length === limit) break;
  }
  return events;
}

/** The first of our events a (backwards) source gives: the newest, past any run of the store's own at the end. */
export async function firstKept<Cursor>(source: PageSource<Cursor>, from: Cursor, pageSize = 256): Promise<RecordedEvent | undefined> {
  for await (const event of keptEvents(source, from, pageSize)) return event;
  return undefined;
}

/** How many of our events come after `after`, counting at most `atMost`. */
export async function countKept<Cursor>(source: PageSource<Cursor>, from: Cursor, after: number, atMost: number, pageSize = 1024): Promise<number> {
  let count = 0;
  if (atMost <= 0) return count;
  for await (const event of keptEvents(source, from, pageSize)) {
    if (event.position <= after) continue;
    if (++count >= atMost) break;
  }
  return count;
}
