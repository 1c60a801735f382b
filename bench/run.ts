/**
 * Benchmarks: `npm run bench`. First this server side by side with node-oidc-provider,
 * then the backbone's own figures: appends, relay, projections, revocation propagation,
 * replay; between them the deployments: SQLite beside PostgreSQL, and one to three instances.
 * Prints tables, asserts nothing; every figure is the median of three runs.
 * BENCH_ONLY=compare, BENCH_ONLY=deployments or BENCH_ONLY=backbone runs one part.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { rebuildProjection } from '../projections/projection-runner.js';
import { projectionRegistry } from '../projections/registry.js';
import { MemoryCheckpointStore } from '../src/checkpoints/checkpoint-store.js';
import { startNatsServer } from '../src/dev/nats-server.js';
import { tempDir } from '../src/dev/temp-dir.js';
import { NatsJetStreamEventBus } from '../src/event-bus/nats-jetstream-event-bus.js';
import type { NewEvent } from '../src/event-store/event-envelope.js';
import { SqliteEventStore } from '../src/event-store/sqlite-event-store.js';
import { Relay } from '../src/relay/relay.js';
import { compareWithOidcProvider } from './compare/run.js';
import { compareDeployments } from './deployments.js';
import { longGrant } from './long-grant.js';
import { replaySpeed } from './replay.js';
import { revocationPropagation } from './revocation-propagation.js';

const RUNS = 3;
const dir = tempDir('oauth-bench-');
const rows: Array<[string, string, string]> = [];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rate = (count: number, ms: number) => (count / ms) * 1000;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function event(type: string, data: Record<string, unknown>): NewEvent {
  return { id: randomUUID(), type, data, schemaVersion: 1, time: new Date().toISOString(), correlationId: randomUUID(), causationId: null };
}

async function measure(label: string, unit: string, run: (i: number) => Promise<number>): Promise<number> {
  const figures: number[] = [];
  for (let i = 0; i < RUNS; i++) figures.push(await run(i));
  const value = median(figures);
  rows.push([label, fmt(value), unit]);
  console.log(`${label}: ${fmt(value)} ${unit}  (runs: ${figures.map(fmt).join(', ')})`);
  return value;
}

const tokenIssued = (i: number) =>
  event('AccessTokenIssued', {
    grantId: randomUUID(), jti: randomUUID(), kid: 'k', clientId: 'c', userId: `u${i % 100}`, audience: 'https://rs',
    scopes: ['profile'], issuedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString(),
  });

async function main() {
  const only = process.env.BENCH_ONLY || undefined;
  if (only === undefined || only === 'compare') {
    console.log('# This server side by side with node-oidc-provider\n');
    const compared = await compareWithOidcProvider();
    console.log('\n| workload | this server | node-oidc-provider | ratio | target |\n| --- | ---: | ---: | ---: | --- |');
    for (const row of compared) console.log(`| ${row.join(' | ')} |`);
    console.log();
  }
  if (only === undefined || only === 'deployments') {
    console.log('# The deployments: SQLite beside PostgreSQL, one to three instances\n');
    const rows = await compareDeployments();
    console.log('\n| workload | deployment | tokens/s | events appended/s | CPU per token: servers (us) | PostgreSQL (us) | nats-server (us) | all (us) |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    console.log();
  }
  if (only !== undefined && only !== 'backbone') return;
  console.log('# The backbone\n');
  await backbone();
}

async function backbone() {
  const N = 20_000;

  const bare = await measure('bare better-sqlite3 insert, one row per transaction (reference)', 'rows/s', async (run) => {
    const db = new Database(join(dir.path, `bare-${run}.sqlite`));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE e (position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, stream TEXT, revision INTEGER, data TEXT, UNIQUE (stream, revision))');
    const insert = db.prepare('INSERT INTO e (id, stream, revision, data) VALUES (?, ?, 0, ?)');
    const tx = db.transaction((e: NewEvent) => insert.run(e.id, `s-${e.id}`, JSON.stringify(e.data)));
    const events = Array.from({ length: N }, (_, i) => tokenIssued(i));
    const start = performance.now();
    for (const e of events) tx(e);
    const ms = performance.now() - start;
    db.close();
    return rate(N, ms);
  });

  const single = await measure('SQLite event store, single-event appends (no_stream check)', 'events/s', async (run) => {
    const store = new SqliteEventStore(join(dir.path, `single-${run}.sqlite`));
    const events = Array.from({ length: N }, (_, i) => tokenIssued(i));
    const start = performance.now();
    for (const e of events) await store.append(`grant-${e.id}`, [e], 'no_stream');
    const ms = performance.now() - start;
    await store.close();
    return rate(N, ms);
  });
  rows.push(['  ratio to the bare insert', (single / bare).toFixed(2), 'x']);

  await measure('SQLite event store, batched appends (100 events per append)', 'events/s', async (run) => {
    const store = new SqliteEventStore(join(dir.path, `batched-${run}.sqlite`));
    const batches = Array.from({ length: N / 100 }, (_, b) => Array.from({ length: 100 }, (_, i) => tokenIssued(b * 100 + i)));
    const start = performance.now();
    for (const batch of batches) await store.append(`grant-${randomUUID()}`, batch, 'no_stream');
    const ms = performance.now() - start;
    await store.close();
    return rate(N, ms);
  });

  const source = new SqliteEventStore(join(dir.path, 'source.sqlite'));
  for (let i = 0; i < N; i += 100) await source.append(`grant-${randomUUID()}`, Array.from({ length: 100 }, (_, j) => tokenIssued(i + j)), 'no_stream');
  const head = await source.headPosition();

  const nats = await startNatsServer();
  try {
    await measure(`relay, store to NATS JetStream (${fmt(N)} events, file storage)`, 'events/s', async () => {
      const bus = await NatsJetStreamEventBus.connect(nats.url);
      const relay = new Relay(source, bus, new MemoryCheckpointStore(), `bench-${randomUUID()}`);
      const start = performance.now();
      await relay.start();
      while (relay.publishedPosition < head) await new Promise((r) => setTimeout(r, 5));
      const ms = performance.now() - start;
      await relay.stop();
      await bus.close();
      return rate(head, ms);
    });
  } finally {
    await nats.dispose();
  }

  await measure(`projection rebuild from the SQLite store, all ${projectionRegistry.length} projections`, 'events/s', async () => {
    const start = performance.now();
    for (const projection of projectionRegistry) await rebuildProjection(projection, source);
    return rate(head * projectionRegistry.length, performance.now() - start);
  });
  await source.close();

  rows.push(...(await revocationPropagation(Number(process.env.BENCH_REVOCATIONS ?? 1000))));
  rows.push(...(await replaySpeed(Number(process.env.BENCH_REPLAY_EVENTS ?? 1_000_000))));
  rows.push(...(await longGrant(Number(process.env.BENCH_LONG_GRANT_REFRESHES ?? 10_000))));
  rows.push(['peak resident memory of the benchmark process', fmt(process.resourceUsage().maxRSS / 1024), 'MB']);
  console.log('\n| figure | value | unit |\n| --- | ---: | --- |');
  for (const [label, value, unit] of rows) console.log(`| ${label} | ${value} | ${unit} |`);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => dir.remove());
