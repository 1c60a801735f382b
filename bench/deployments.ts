/**
 * The deployments side by side (part of `npm run bench`, BENCH_ONLY=deployments; issue #23):
 * the embedded one (SQLite files in the data directory) beside the PostgreSQL one
 * (DATABASE_URL: the record and the shared state in PostgreSQL) on the same workloads, then
 * one, two and three instances on PostgreSQL with a nats-server (the relay's lease runs as in
 * production) behind a load that deals its requests to the instances in turn.
 *
 * Each figure: tokens per second, events appended per second (the record's head before and
 * after), and CPU per token of the authorization servers (all threads) and of PostgreSQL
 * (the postmaster and every backend, those that ended too). The servers, PostgreSQL,
 * nats-server and the load generator share this machine's cores: throughput cannot grow
 * with instances here, and other work on the machine moves it; CPU per token is the figure
 * that carries over to a deployment with a host per instance.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../src/config/config.js';
import { startNatsServer, type NatsServer } from '../src/dev/nats-server.js';
import { tempDir } from '../src/dev/temp-dir.js';
import { openCommandSide } from '../src/system/command-side.js';
import { startPostgres, type PrivatePostgres } from '../test/support/postgres.js';
import { START_ENV } from './compare/run.js';
import { childrenRunning, freePort, startProcess, statCpuSeconds, treeCpuSeconds } from './compare/processes.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/** A multiple of one, two and three: autocannon deals its connections to the instances in turn. */
const CONNECTIONS = 12;
const USERS = Array.from({ length: 6 }, (_, i) => ({ username: `bench-user-${i + 1}`, password: `bench password ${i + 1}` }));
const REDIRECT_URI = 'https://bench.example/cb';

/** CPU seconds so far: the authorization servers, PostgreSQL's processes, nats-server. */
interface CpuClocks {
  servers: number;
  postgres: number;
  nats: number;
}

interface Deployment {
  label: string;
  /** Where its instances listen. */
  urls: string[];
  clientSecret: string;
  /** Events in its record whose time is in [from, to) (ISO 8601 instants, as events carry them). */
  eventsBetween(from: string, to: string): Promise<number>;
  cpu(): CpuClocks;
  stop(): Promise<void>;
}

interface Figures {
  tokensPerSecond: number;
  eventsPerToken: number;
  /** CPU microseconds per token. */
  cpu: CpuClocks;
}

/** What a deployment needs before it starts: the bench's client and users, registered as an operator would. */
async function register(env: Record<string, string>): Promise<string> {
  const side = await openCommandSide(loadConfig(env));
  try {
    const { clientSecret } = await side.admin.registerClient({
      clientId: 'bench', name: 'Bench', clientType: 'confidential', redirectUris: [REDIRECT_URI], scopes: ['profile', 'items:read'],
      grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
    });
    for (const user of USERS) await side.admin.registerUser({ ...user, name: user.username });
    return clientSecret!;
  } finally {
    await side.close();
  }
}

/** `count` authorization server processes on one configuration, each with a data directory of its own. */
async function startInstances(count: number, env: Record<string, string>, dirs: Array<{ remove(): void }>): Promise<{ urls: string[]; children: ChildProcess[] }> {
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const children: ChildProcess[] = [];
  try {
    for (const port of ports) {
      const dir = tempDir('bench-instance-');
      dirs.push(dir);
      // One issuer for all, as behind a load balancer.
      children.push(await startProcess(join(here, '../src/main.js'), [], { ...START_ENV, ...env, DATA_DIR: dir.path, AS_PORT: String(port), ISSUER: urls[0] }, `http://127.0.0.1:${port}/readyz`));
    }
  } catch (error) {
    await stopAll(children);
    throw error;
  }
  return { urls, children };
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));
}

/** The environment both deployments share: the authorization server alone, no demo data, the bench's users free of per-user limits. */
const SERVER_ENV = {
  SERVICES: 'authorization-server', SEED_DEMO: 'false', ADMIN_PORT: '0', HOST: '127.0.0.1',
  AUTHORIZATION_LIMIT_PER_CLIENT: '100000', AUTHORIZATION_LIMIT_PER_USER: '1000000',
};

async function sqliteDeployment(): Promise<Deployment> {
  const data = tempDir('bench-sqlite-');
  try {
    const port = await freePort();
    const env = { ...SERVER_ENV, DATA_DIR: data.path, AS_PORT: String(port) };
    const clientSecret = await register(env);
    const url = `http://127.0.0.1:${port}`;
    const server = await startProcess(join(here, '../src/main.js'), [], { ...START_ENV, ...env }, `${url}/readyz`);
    const events = new Database(join(data.path, 'events.sqlite'), { readonly: true });
    return {
      label: 'SQLite (embedded), 1 instance',
      urls: [url],
      clientSecret,
      eventsBetween: async (from, to) => (events.prepare('SELECT count(*) AS n FROM events WHERE time >= ? AND time < ?').get(from, to) as { n: number }).n,
      cpu: () => ({ servers: statCpuSeconds(`/proc/${server.pid}/stat`), postgres: 0, nats: 0 }),
      async stop() {
        events.close();
        await stopAll([server]);
        data.remove();
      },
    };
  } catch (error) {
    data.remove();
    throw error;
  }
}

/** The postmaster's id: the first line of postmaster.pid in the cluster's data directory. */
async function postmasterOf(postgres: PrivatePostgres): Promise<number> {
  const [{ data_directory: dir }] = await postgres.query<{ data_directory: string }>('postgres', 'SHOW data_directory');
  return Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** `count` instances on a database of their own in the bench's PostgreSQL, with a nats-server of their own when `withNats`. */
async function postgresDeployment(postgres: PrivatePostgres, count: number, withNats: boolean): Promise<Deployment> {
  const database = `bench_${count}_${withNats ? 'nats' : 'alone'}`;
  const env: Record<string, string> = {
    ...SERVER_ENV, DATABASE_URL: await postgres.createDatabase(database), SECRET_STORE_KEY: randomBytes(32).toString('base64url'),
  };
  const postmaster = await postmasterOf(postgres);
  const dirs: Array<{ remove(): void }> = [];
  let nats: NatsServer | undefined;
  let records: pg.Client | undefined;
  try {
    const registrar = tempDir('bench-registrar-');
    dirs.push(registrar);
    const clientSecret = await register({ ...env, DATA_DIR: registrar.path });
    let natsPid: number | undefined;
    if (withNats) {
      const others = childrenRunning(process.pid, 'nats-server');
      nats = await startNatsServer();
      env.NATS_URL = nats.url;
      natsPid = childrenRunning(process.pid, 'nats-server').find((pid) => !others.includes(pid));
    }
    records = new pg.Client({ connectionString: env.DATABASE_URL });
    await records.connect();
    const record = records;
    const { urls, children } = await startInstances(count, env, dirs);
    return {
      label: `PostgreSQL, ${count} instance${count > 1 ? 's' : ''}${withNats ? ' + nats-server' : ''}`,
      urls,
      clientSecret,
      eventsBetween: async (from, to) => Number((await record.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE time >= $1 AND time < $2', [from, to])).rows[0].n),
      cpu: () => ({
        servers: children.reduce((sum, child) => sum + statCpuSeconds(`/proc/${child.pid}/stat`), 0),
        postgres: treeCpuSeconds(postmaster),
        nats: natsPid === undefined ? 0 : statCpuSeconds(`/proc/${natsPid}/stat`),
      }),
      async stop() {
        try {
          await record.end().catch(() => undefined);
          await stopAll(children);
          await nats?.dispose();
        } finally {
          for (const dir of dirs) dir.remove();
        }
      },
    };
  } catch (error) {
    await records?.end().catch(() => undefined);
    await nats?.dispose();
    for (const dir of dirs) dir.remove();
    throw error;
  }
}

interface Workload {
  label: string;
  options(deployment: Deployment): Record<string, unknown>;
}

const WORKLOADS: Workload[] = [
  {
    label: 'client_credentials, ES256 JWT access token',
    options: (d) => ({
      url: d.urls.map((url) => `${url}/token`), method: 'POST', body: 'grant_type=client_credentials',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`bench:${d.clientSecret}`).toString('base64')}` },
    }),
  },
  {
    label: 'refresh token grant with rotation',
    options: (d) => ({ ...flow(d, 'refresh'), instances: d.urls }),
  },
  {
    // Its authorization requests go to the first instance (a browser keeps to one), so one instance only.
    label: 'code flow by a signed-in user: authorize, consent, token',
    options: (d) => flow(d, 'code-flow-signed-in'),
  },
];

const flow = (d: Deployment, workload: string) => ({
  workload, issuer: d.urls[0], authorizePath: '/authorize', clientId: 'bench', clientSecret: d.clientSecret, redirectUri: REDIRECT_URI, scope: 'items:read', users: USERS,
});

/**
 * One run: the load generator in its own process. Its clock runs `SECONDS` from when it says
 * `started`; the CPU clocks are read then and `SECONDS` later, and the events counted are
 * those whose time is in that window, not the record's head before and after: with answers
 * taking up to a second on a busy machine, the requests in flight at either end would
 * otherwise weigh on a run of a few seconds. Those in flight at the start and at the end
 * make up for each other.
 */
async function measure(label: string, deployment: Deployment, options: Record<string, unknown>): Promise<Figures> {
  const script = join(here, 'compare', 'workload' in options ? 'flows.js' : 'load.js');
  const settings = { connections: CONNECTIONS, concurrency: CONNECTIONS, duration: SECONDS, ...options };
  const child = spawn(process.execPath, [script, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let window: Promise<{ from: string; to: string; start: CpuClocks; end: CpuClocks }> | undefined;
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (window || !out.startsWith('started\n')) return;
    const [from, start] = [new Date(), deployment.cpu()];
    window = new Promise((resolve) => {
      setTimeout(() => resolve({ from: from.toISOString(), to: new Date(from.getTime() + SECONDS * 1000).toISOString(), start, end: deployment.cpu() }), SECONDS * 1000);
    });
  });
  await once(child, 'exit');
  if (!window) throw new Error(`${label}: the load generator did not start`);
  const { from, to, start, end } = await window;
  const result = JSON.parse(out.trim().split('\n').pop()!) as { requestsPerSecond: number; operations: number; non2xx: number; errors: number; firstError?: string };
  if (result.non2xx > 0 || result.errors > 0 || result.operations === 0) {
    throw new Error(`${label}, ${deployment.label}: ${result.non2xx} non-2xx answers, ${result.errors} errors ${result.firstError ?? ''}`);
  }
  const perToken = (part: keyof CpuClocks) => ((end[part] - start[part]) * 1e6) / result.operations;
  return {
    tokensPerSecond: result.requestsPerSecond,
    eventsPerToken: (await deployment.eventsBetween(from, to)) / result.operations,
    cpu: { servers: perToken('servers'), postgres: perToken('postgres'), nats: perToken('nats') },
  };
}

const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export type DeploymentRow = [workload: string, deployment: string, tokensPerSecond: string, eventsPerSecond: string, servers: string, postgres: string, nats: string, all: string];

/**
 * The deployments take turns run by run (the machine's speed drifts over minutes); each
 * figure is the median of its runs, each taken on its own (the medians of a row need not
 * come from one run).
 */
async function compare(workloads: Workload[], deployments: Deployment[], rows: DeploymentRow[]): Promise<void> {
  for (const workload of workloads) {
    const runs = new Map<Deployment, Figures[]>(deployments.map((d) => [d, []]));
    for (let i = 0; i < RUNS; i++) for (const d of deployments) runs.get(d)!.push(await measure(workload.label, d, workload.options(d)));
    for (const d of deployments) {
      const figures = runs.get(d)!;
      const of = (pick: (f: Figures) => number) => middle(figures.map(pick));
      const cpu = (part: keyof CpuClocks) => of((f) => f.cpu[part]);
      const row: DeploymentRow = [
        workload.label, d.label, fmt(of((f) => f.tokensPerSecond)), fmt(of((f) => f.tokensPerSecond * f.eventsPerToken)),
        fmt(cpu('servers')), fmt(cpu('postgres')), fmt(cpu('nats')), fmt(of((f) => f.cpu.servers + f.cpu.postgres + f.cpu.nats)),
      ];
      rows.push(row);
      console.log(`${row[0]}, ${row[1]}: ${row[2]} tokens/s, ${row[3]} events/s, CPU per token ${row[7]} us (servers ${row[4]}, PostgreSQL ${row[5]}, nats-server ${row[6]}); runs: ${figures.map((f) => fmt(f.tokensPerSecond)).join(', ')} tokens/s, ${figures.map((f) => fmt(f.cpu.servers + f.cpu.postgres + f.cpu.nats)).join(', ')} us`);
    }
  }
}

export async function compareDeployments(): Promise<DeploymentRow[]> {
  const rows: DeploymentRow[] = [];
  const postgres = await startPostgres();
  const started: Deployment[] = [];
  const start = async (deployment: Promise<Deployment>) => {
    const d = await deployment;
    started.push(d);
    return d;
  };
  try {
    const one = [await start(sqliteDeployment()), await start(postgresDeployment(postgres, 1, false))];
    await compare(WORKLOADS, one, rows);
    for (const d of one) await d.stop();
    started.length = 0;

    const several = [];
    for (const count of [1, 2, 3]) several.push(await start(postgresDeployment(postgres, count, true)));
    await compare(WORKLOADS.slice(0, 2), several, rows);
  } finally {
    for (const d of started) await d.stop().catch((error: Error) => console.error(`stopping ${d.label}: ${error.message}`));
    await postgres.stop();
  }
  return rows;
}
