import type { RecordedEvent } from './event-envelope.js';

/** The channel every append notifies in its transaction: followers LISTEN on it. */
export const APPENDED_CHANNEL = 'events_appended';

/**
 * The record's tables. `event_log_head` holds the highest position ever given out, in one
 * row that every append locks first: appends commit one after another, so a position
 * becomes visible only after every lower one (docs/postgresql.md, "gaps"), and a
 * rolled-back append gives its numbers back, so positions stay 1, 2, 3... as on SQLite.
 * `data` is `json`, not `jsonb`: the text is kept as written (canonical JSON, what the hash covers).
 */
export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position bigint PRIMARY KEY,
    id text NOT NULL UNIQUE,
    stream text NOT NULL,
    revision integer NOT NULL,
    type text NOT NULL,
    schema_version integer NOT NULL,
    time text NOT NULL,
    correlation_id text NOT NULL,
    causation_id text,
    data json NOT NULL,
    hash text NOT NULL,
    CONSTRAINT events_stream_revision UNIQUE (stream, revision)
  );
  CREATE TABLE IF NOT EXISTS event_log_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    position bigint NOT NULL
  );
  INSERT INTO event_log_head (one, position) VALUES (true, 0) ON CONFLICT DO NOTHING;
`;

export const TABLES_EXIST = "SELECT to_regclass('events') IS NOT NULL AND to_regclass('event_log_head') IS NOT NULL AS made";

/** Two processes creating the tables at once would collide in the catalog: one at a time. */
export const SCHEMA_LOCK = 'SELECT pg_advisory_xact_lock(7413002911)';

export interface EventRow {
  position: string;
  id: string;
  stream: string;
  revision: number;
  type: string;
  schema_version: number;
  time: string;
  correlation_id: string;
  causation_id: string | null;
  /** `pg` parses json columns. */
  data: Record<string, unknown>;
  hash: string;
}

/** bigint arrives as a string: positions stay far below 2^53. */
export const fromRow = (row: EventRow): RecordedEvent => ({
  id: row.id,
  type: row.type,
  stream: row.stream,
  revision: row.revision,
  position: Number(row.position),
  schemaVersion: row.schema_version,
  time: row.time,
  correlationId: row.correlation_id,
  causationId: row.causation_id,
  data: row.data,
  hash: row.hash,
});

/** Every event of a group of appends in one statement: the rows, the new head, and the notification. */
export const INSERT_APPENDS = `
  WITH inserted AS (
    INSERT INTO events (position, id, stream, revision, type, schema_version, time, correlation_id, causation_id, data, hash)
    SELECT p, i, s, r, t, v, tm, c, ca, d::json, h
    FROM unnest($3::bigint[], $4::text[], $5::text[], $6::int[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
      AS e(p, i, s, r, t, v, tm, c, ca, d, h)
    RETURNING 1
  ), head AS (
    UPDATE event_log_head SET position = $1 WHERE one
  )
  SELECT pg_notify('${APPENDED_CHANNEL}', $2), (SELECT count(*) FROM inserted) AS inserted
`;

/** Appends take turns on this row lock, held until their commit. */
export const LOCK_HEAD = 'SELECT position FROM event_log_head WHERE one FOR UPDATE';

/**
 * Each stream's last event. A statement of its own after LOCK_HEAD: under READ COMMITTED it
 * takes a fresh snapshot, which holds what the lock's previous holder committed (a join in
 * the locking statement would read events as they were before it waited for the lock).
 */
export const READ_LASTS = `
  SELECT DISTINCT ON (stream) stream, revision, hash FROM events WHERE stream = ANY($1::text[]) ORDER BY stream, revision DESC
`;
