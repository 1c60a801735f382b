import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { rebuildProjection } from '../../projections/projection-runner.js';
import { projectionNamed, projectionRegistry } from '../../projections/registry.js';
import { SqliteProjectionStore } from '../../projections/sqlite-projection-store.js';
import { compareWithLive } from '../audit/compare-projection.js';
import { auditTime, BadHistoryQuery, history, historyFilter, resolveUser, type HistoryEntry } from '../audit/history.js';
import { grantsAt } from '../audit/point-in-time.js';
import { verifyChains } from '../audit/verify-chains.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { openEventStore, openRawEventStore } from '../system/adapters.js';
import type { Io } from './admin.js';

const HELP = `oauth-audit: read the grant history from the event store itself (never from NATS)

Usage:
  oauth-audit history (--grant <id> | --user <id or username> | --client <client_id> | --from <time> --to <time>) [--json]
  oauth-audit at --user <id or username> --time <ISO time> [--json]     which clients could act for the user then
  oauth-audit verify                                                      recompute every stream's hash chain
  oauth-audit rebuild <projection | all> [--live <projection SQLite file>]
                                                                          rebuild from the store; compare with the live copy

Projections: ${projectionRegistry.map((p) => p.name).join(', ')}.
Reads the store the server is configured with (DATA_DIR, EVENTSTOREDB_URL, DATABASE_URL).`;

class UsageError extends Error {}


/** A progress bar on stderr: where it can be seen and never mixes with the output. */
function progressBar(io: Io, label: string) {
  let last = 0;
  return (done: number, total: number) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const share = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(share * 30);
    io.progress?.(`\r${label} [${'#'.repeat(filled)}${' '.repeat(30 - filled)}] ${Math.round(share * 100)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`);
  };
}

function table(rows: HistoryEntry[]): string[] {
  const cells = rows.map((r) => [r.time, r.type, r.actor, r.stream, r.correlationId]);
  const header = ['time', 'event', 'actor', 'stream', 'correlation id'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

export async function runAudit(argv: string[], env: Record<string, string | undefined> = process.env, io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || rest.includes('--help')) {
    io.out(HELP);
    return command ? 0 : 2;
  }
  let store;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        grant: { type: 'string' }, user: { type: 'string' }, client: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
        time: { type: 'string' }, json: { type: 'boolean' }, live: { type: 'string' },
      },
    });
    const config = loadConfig(env);
    // verify checks events exactly as written; everything else reads them at their current schema.
    store = command === 'verify' ? openRawEventStore(config) : openEventStore(config);
    switch (command) {
      case 'history': {
        const filter = await historyFilter(store, values);
        if (values.json) {
          for await (const entry of history(store, filter)) io.out(JSON.stringify(entry));
        } else {
          const rows: HistoryEntry[] = [];
          for await (const entry of history(store, filter)) rows.push(entry);
          for (const line of table(rows)) io.out(line);
          io.out(`${rows.length} events`);
        }
        return 0;
      }
      case 'at': {
        if (!values.user) throw new UsageError('--user is required');
        const at = auditTime(values.time, 'time');
        const grants = await grantsAt(store, await resolveUser(store, values.user), at);
        if (values.json) {
          for (const grant of grants) io.out(JSON.stringify(grant));
        } else {
          io.out(`clients that could act for ${values.user} at ${at}:`);
          for (const g of grants) io.out(`  ${g.clientId}  scopes: ${g.scopes.join(' ') || '-'}  since ${g.since}  until ${g.until}  (grant ${g.grantId})`);
          if (grants.length === 0) io.out('  none');
        }
        return 0;
      }
      case 'verify': {
        const head = await store.headPosition();
        const bar = progressBar(io, 'verify');
        const result = await verifyChains(store, (checked) => bar(checked, head));
        io.progress?.('\n');
        if (result.firstBreak) {
          const { event, reason } = result.firstBreak;
          io.err(`TAMPERED: event ${event.id} (stream ${event.stream}, revision ${event.revision}, position ${event.position}, ${event.type}): ${reason}`);
          return 1;
        }
        if (result.missing) {
          const { from, to } = result.missing;
          const which = from === to ? `the event at position ${from} is missing` : `the events at positions ${from} to ${to} are missing`;
          io.err(`TAMPERED: ${which}: the store numbers events without gaps, so ${from === to ? 'it was' : 'they were'} removed`);
          return 1;
        }
        io.out(`ok: ${result.checked} events, every hash chain intact${store.highestPositionAssigned ? ', no event missing' : ''}`);
        return 0;
      }
      case 'rebuild': {
        const [name] = positionals;
        const projections = name === 'all' ? projectionRegistry : [projectionNamed(name ?? '')].filter((p) => p !== undefined);
        if (projections.length === 0) throw new UsageError(`unknown projection "${name ?? ''}"`);
        const liveFile = values.live ?? join(config.dataDir, 'resource-server-projections.sqlite');
        const live = existsSync(liveFile) ? new SqliteProjectionStore(liveFile) : undefined;
        let allMatch = true;
        try {
          for (const projection of projections) {
            const bar = progressBar(io, `rebuild ${projection.name}`);
            if (live && live.checkpoint(projection.name) > 0) {
              const result = await compareWithLive(projection, store, live, bar);
              io.progress?.('\n');
              allMatch &&= result.matches;
              io.out(
                `${projection.name}: ${result.rebuiltDocuments} documents rebuilt up to position ${result.position}; ` +
                  (result.matches ? 'matches the live copy' : `DIFFERS from the live copy (${result.liveDocuments} documents), first at key ${result.firstDifference}`),
              );
            } else {
              const head = await store.headPosition();
              const rebuilt: MemoryProjectionStore = await rebuildProjection(projection, store, head, (p) => bar(p, head));
              io.progress?.('\n');
              io.out(`${projection.name}: ${rebuilt.entries(projection.name).length} documents rebuilt up to position ${head}; no live copy in ${liveFile} to compare with`);
            }
          }
        } finally {
          live?.close();
        }
        return allMatch ? 0 : 1;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof BadHistoryQuery) io.err(`oauth-audit: ${error.message}\n\n${HELP}`);
    else if (error instanceof ConfigError) io.err(error.message);
    else io.err(`oauth-audit: ${(error as Error).message}`);
    return error instanceof UsageError || error instanceof BadHistoryQuery || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  } finally {
    await store?.close();
  }
}

const defaultIo: Io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  stdin: () => '',
  progress: (text) => void process.stderr.write(text),
};
