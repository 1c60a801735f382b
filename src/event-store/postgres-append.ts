import type pg from 'pg';
import type { NewEvent } from './event-envelope.js';
import { checkExpectedRevision, type AppendResult, type ExpectedRevision } from './event-store.js';
import { INSERT_APPENDS, LOCK_HEAD, READ_LASTS } from './postgres-schema.js';
import { chainHash } from './tamper-evidence.js';

export interface PendingAppend {
  stream: string;
  events: NewEvent[];
  /** The events' data as canonical JSON: what is stored and what the hash covers. */
  datas: string[];
  expected: ExpectedRevision;
}

export type Outcome = { result: AppendResult } | { error: unknown };

/**
 * Commits a group of appends in one transaction: the head row locked first (appends from
 * every process take turns, docs/postgresql.md), then each stream's last event read under
 * that lock, in a statement of its own so that it sees what the previous holder committed.
 * Each append keeps its own revision check against the group's running state, so a lost
 * race fails only that append; the rest go in with one INSERT. The caller runs `BEGIN`/`COMMIT`.
 */
export async function commitAppends(client: pg.ClientBase, pending: readonly PendingAppend[]): Promise<Outcome[]> {
  const { rows: heads } = await client.query<{ position: string }>(LOCK_HEAD);
  let position = Number(heads[0].position);
  const streams = [...new Set(pending.map((append) => append.stream))];
  const { rows: lasts } = await client.query<{ stream: string; revision: number; hash: string }>(READ_LASTS, [streams]);
  const last = new Map(lasts.map((row) => [row.stream, { revision: row.revision, hash: row.hash }]));
  const columns: unknown[][] = Array.from({ length: 11 }, () => []);
  const outcomes = pending.map(({ stream, events, datas, expected }): Outcome => {
    const before = last.get(stream);
    try {
      checkExpectedRevision(stream, expected, before?.revision);
    } catch (error) {
      return { error };
    }
    let revision = before?.revision ?? -1;
    let previousHash = before?.hash ?? null;
    for (const [i, event] of events.entries()) {
      revision += 1;
      position += 1;
      previousHash = chainHash(previousHash, { ...event, stream, revision }, datas[i]);
      const row = [position, event.id, stream, revision, event.type, event.schemaVersion, event.time, event.correlationId, event.causationId, datas[i], previousHash];
      row.forEach((value, column) => columns[column].push(value));
    }
    if (events.length > 0) last.set(stream, { revision, hash: previousHash! });
    return { result: { revision, position } };
  });
  if (columns[0].length > 0) await client.query(INSERT_APPENDS, [position, String(position), ...columns]);
  return outcomes;
}
