import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  /** A connection string to `database` (default: postgres). */
  url(database?: string): string;
  /** Creates an empty database and answers its connection string. */
  createDatabase(name: string): Promise<string>;
  /** One statement on `database`, on a connection of its own. */
  query<R extends pg.QueryResultRow>(database: string, sql: string, values?: unknown[]): Promise<R[]>;
  /**
   * Stops the server and keeps its cluster, as an outage: `fast` ends every session and rolls
   * back what was open (a clean shutdown), `immediate` kills it mid-work (a crash: recovery at
   * the next start). Connections are refused on its port until `resume`.
   */
  pause(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the same cluster again on the same port; resolves once it takes connections. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own (Debian's postgresql 15): a fresh cluster in a
 * temp dir, trusted on a free loopback port, its socket in that dir. PostgreSQL refuses
 * to run as root, so as root it runs as the postgres user. `pause` and `resume` take it away
 * and bring it back; `stop` stops it and removes the dir.
 */
export async function startPostgres(): Promise<PrivatePostgres> {
  if (!existsSync(`${BIN}/initdb`)) throw new Error(`no ${BIN}/initdb: apt-get install -y postgresql`);
  const dir = mkdtempSync(join(tmpdir(), 'oauth-pg-'));
  const asRoot = process.getuid?.() === 0;
  const as = (command: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args));
  if (asRoot) chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout), Number((await run('id', ['-g', 'postgres'])).stdout));
  const data = join(dir, 'data');
  const port = await freePort();
  const stopServer = (mode: 'fast' | 'immediate' = 'fast') => as(`${BIN}/pg_ctl`, ['-D', data, '-m', mode, '-w', 'stop']);
  const startServer = () => as(`${BIN}/pg_ctl`, ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  let running = false;
  try {
    // --no-sync and fsync=off: a throw-away cluster need not survive a power cut, and tests start faster.
    await as(`${BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await startServer();
    running = true;
  } catch (error) {
    await stopServer().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const query = async <R extends pg.QueryResultRow>(database: string, sql: string, values?: unknown[]) => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return (await client.query<R>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    url,
    query,
    async createDatabase(name) {
      await query('postgres', `CREATE DATABASE "${name}"`);
      return url(name);
    },
    async pause(mode = 'fast') {
      await stopServer(mode);
      running = false;
    },
    async resume() {
      await startServer();
      running = true;
    },
    async stop() {
      try {
        // Paused, or a resume that failed half-way: stop whatever may be left, quietly.
        await (running ? stopServer() : stopServer().catch(() => undefined));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
