/**
 * This server side by side with node-oidc-provider (part of `npm run bench`). Each workload
 * runs against both in the same run, the load generator (autocannon, or flows.js for the
 * multi-step workloads) in its own process, and gives the median of three runs of each and
 * the median of the three runs' ratios, the two servers taking turns run by run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { hashPassword } from '../../src/credentials/password.js';
import { loadConfig } from '../../src/config/config.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { openCommandSide } from '../../src/system/command-side.js';
import { compareDPoP } from './dpop-rows.js';
import { freePort, peakRssMb, resetPeakRss, startProcess, statCpuSeconds } from './processes.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 16;
/** Only the workloads whose label contains this (e.g. BENCH_MATCH=signed-in), when set. */
const MATCH = process.env.BENCH_MATCH;

/**
 * The environment `npm start` gives the server (package.json; the Docker image sets the same):
 * both servers get it, so the memory row compares servers, not allocator settings.
 */
export const START_ENV: Record<string, string> = Object.fromEntries(
  [...(JSON.parse(readFileSync(join(here, '../../../package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.matchAll(/\b([A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]),
);

interface LoadResult {
  requestsPerSecond: number;
  /** Operations completed (requests, or flows and refreshes for flows.js), and the load generator's CPU time for them. */
  operations: number;
  cpuSeconds: number;
  non2xx: number;
  errors: number;
  firstError?: string;
}

/** CPU seconds (user + system) a process has used in all its threads, and its main thread: the event loop. */
function cpuClock(pid: number): { process: number; loop: number } {
  return { process: statCpuSeconds(`/proc/${pid}/stat`), loop: statCpuSeconds(`/proc/${pid}/task/${pid}/stat`) };
}

/** What one operation cost in CPU, in microseconds: the server in all threads, its event loop, and the load generator. */
interface CpuPerOperation {
  server: number;
  loop: number;
  load: number;
}

/**
 * autocannon for single requests; flows.js for the workloads that are a sequence of requests.
 * The server's CPU clock is read when the load's clock starts (after any set-up) and when it ends.
 */
async function load(options: Record<string, unknown>, server: ChildProcess): Promise<LoadResult & { cpu?: CpuPerOperation }> {
  const script = 'workload' in options ? 'flows.js' : 'load.js';
  const settings = { connections: CONNECTIONS, concurrency: CONNECTIONS, duration: SECONDS, ...options };
  const child = spawn(process.execPath, [join(here, script), JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let before: { process: number; loop: number } | undefined;
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (!before && out.startsWith('started\n')) before = cpuClock(server.pid!);
  });
  await once(child, 'exit');
  const after = before ? cpuClock(server.pid!) : undefined;
  const result = JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
  if (!after || !before || result.operations === 0) return result;
  const perOperation = (seconds: number) => (seconds * 1e6) / result.operations;
  return {
    ...result,
    cpu: { server: perOperation(after.process - before.process), loop: perOperation(after.loop - before.loop), load: perOperation(result.cpuSeconds) },
  };
}

/** One run of a workload; a non-2xx answer or an error makes the figure worthless, so it stops the bench. */
async function runOnce(label: string, options: Record<string, unknown>, server: ChildProcess) {
  const result = await load(options, server);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${label}: ${result.non2xx} non-2xx answers, ${result.errors} errors ${result.firstError ?? ''}`);
  return { figure: result.requestsPerSecond, cpu: result.cpu };
}

const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function median(label: string, figures: number[]): number {
  const value = middle(figures);
  console.log(`${label}: ${Math.round(value)}/s (runs: ${figures.map(Math.round).join(', ')})`);
  return value;
}

const USERS = Array.from({ length: CONNECTIONS }, (_, i) => ({ username: `bench-user-${i + 1}`, password: `bench password ${i + 1}` }));
const REDIRECT_URI = 'https://bench.example/cb';

export type Row = [workload: string, ours: string, reference: string, ratio: string, target: string];

export async function compareWithOidcProvider(): Promise<Row[]> {
  const dir = tempDir('bench-compare-');
  const children: ChildProcess[] = [];
  try {
    // node-oidc-provider, with an ES256 key of its own and the same users, hashed with the same scrypt.
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'k', alg: 'ES256', use: 'sig' });
    const hashes = JSON.stringify(Object.fromEntries(await Promise.all(USERS.map(async (u) => [u.username, await hashPassword(u.password)]))));
    const oidcPort = await freePort();
    const oidc = await startProcess(join(here, 'oidc-provider-server.js'), [String(oidcPort), jwk, 'jwt', hashes], START_ENV);
    children.push(oidc);
    const oidcUrl = `http://127.0.0.1:${oidcPort}`;
    const opaquePort = await freePort();
    const opaque = await startProcess(join(here, 'oidc-provider-server.js'), [String(opaquePort), jwk, 'opaque', hashes], START_ENV);
    children.push(opaque);
    const opaqueUrl = `http://127.0.0.1:${opaquePort}`;
    const openIdPort = await freePort();
    const openId = await startProcess(join(here, 'oidc-provider-server.js'), [String(openIdPort), jwk, 'oidc', hashes], START_ENV);
    children.push(openId);
    const openIdUrl = `http://127.0.0.1:${openIdPort}`;
    const oidcSecret = 'bench-secret-bench-secret-bench-secret';
    const oidcBasic = `Basic ${Buffer.from(`bench:${oidcSecret}`).toString('base64')}`;

    // This server: the authorization server and the resource server, embedded defaults.
    const [asPort, rsPort, barePort] = [await freePort(), await freePort(), await freePort()];
    // The per-user authorization limits bound what one signed-in browser can record; the bench's few
    // users run thousands of flows a minute each, so they are lifted here (the counting still runs).
    const env = {
      DATA_DIR: dir.path, AS_PORT: String(asPort), RS_PORT: String(rsPort), SEED_DEMO: 'false', ADMIN_PORT: '0', SERVICES: 'authorization-server,resource-server', HOST: '127.0.0.1',
      AUTHORIZATION_LIMIT_PER_CLIENT: '100000', AUTHORIZATION_LIMIT_PER_USER: '1000000',
    };
    const side = await openCommandSide(loadConfig(env));
    const { clientSecret } = await side.admin.registerClient({
      clientId: 'bench', name: 'Bench', clientType: 'confidential', redirectUris: [REDIRECT_URI], scopes: ['openid', 'profile', 'items:read'],
      grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
      // As the reference's client: its one key is ES256.
      idTokenSignedResponseAlg: 'ES256',
    });
    for (const user of USERS) await side.admin.registerUser({ ...user, name: user.username });
    await side.close();
    const ours = await startProcess(join(here, '../../src/main.js'), [], { ...START_ENV, ...env }, `http://127.0.0.1:${asPort}/readyz`);
    children.push(ours);
    const asUrl = `http://127.0.0.1:${asPort}`;
    const basic = `Basic ${Buffer.from(`bench:${clientSecret}`).toString('base64')}`;
    const form = (authorization: string, body: string) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, body });
    const tokenOf = async (url: string, authorization: string) =>
      ((await (await fetch(`${url}/token`, form(authorization, 'grant_type=client_credentials&scope=profile'))).json()) as { access_token: string }).access_token;
    const flow = (workload: string, issuer: string, authorizePath: string, secret: string) => ({
      workload, issuer, authorizePath, clientId: 'bench', clientSecret: secret, redirectUri: REDIRECT_URI, scope: 'items:read', users: USERS,
    });

    const rows: Row[] = [];
    // The peak of each server across the authorization server workloads, and of each workload on its own.
    const peaks = { ours: 0, theirs: 0 };
    /** One run on one server: its figure, its CPU per operation, and its peak resident memory where the high-water mark can be reset. */
    const measured = async (server: ChildProcess, label: string, options: Record<string, unknown>, peak: boolean) => {
      const reset = peak && resetPeakRss(server);
      const { figure, cpu } = await runOnce(label, options, server);
      return { figure, cpu, peak: reset ? peakRssMb(server) : undefined };
    };
    /**
     * The two servers take turns, run by run: the machine's speed drifts over minutes, and
     * turns let a slow spell fall on both rather than on one server's three runs.
     */
    const compare = async (
      workload: string,
      oursOptions: Record<string, unknown>,
      theirsOptions: Record<string, unknown>,
      target: string,
      servers: { ours: ChildProcess; theirs: ChildProcess; peaks: boolean },
    ) => {
      if (MATCH && !workload.includes(MATCH)) return;
      const runs: { ours: Array<Awaited<ReturnType<typeof measured>>>; theirs: Array<Awaited<ReturnType<typeof measured>>> } = { ours: [], theirs: [] };
      for (let i = 0; i < RUNS; i++) {
        runs.ours.push(await measured(servers.ours, workload, oursOptions, servers.peaks));
        runs.theirs.push(await measured(servers.theirs, workload, theirsOptions, servers.peaks));
      }
      const [a, b] = [runs.ours.map((r) => r.figure), runs.theirs.map((r) => r.figure)];
      const [x, y] = [median(`${workload}, this server`, a), median(`${workload}, reference`, b)];
      // The ratio of each turn's pair, then their median: a spell that slows one pair leaves the others.
      const ratio = middle(a.map((mine, i) => mine / b[i]));
      rows.push([workload, fmt(x), fmt(y), `${ratio.toFixed(2)}x`, target]);
      // Operations per CPU second: what the server could do with a core to itself, where the
      // load generator takes none of it (event loop), and what it costs (all threads).
      const cpu = (side: 'ours' | 'theirs', part: keyof CpuPerOperation) => {
        const figures = runs[side].map((r) => r.cpu?.[part]).filter((v): v is number => v !== undefined && v > 0);
        return figures.length === RUNS ? middle(figures) : undefined;
      };
      for (const side of ['ours', 'theirs'] as const) {
        const [server, loop, generator] = [cpu(side, 'server'), cpu(side, 'loop'), cpu(side, 'load')];
        if (server !== undefined && loop !== undefined && generator !== undefined) {
          console.log(`  ${side === 'ours' ? 'this server' : 'reference'}: CPU per operation ${Math.round(server)} us (event loop ${Math.round(loop)} us), load generator ${Math.round(generator)} us`);
        }
      }
      const perSecond = (part: 'loop' | 'server', label: string) => {
        const [mine, theirs] = [cpu('ours', part), cpu('theirs', part)];
        if (mine !== undefined && theirs !== undefined) rows.push([label, fmt(1e6 / mine), fmt(1e6 / theirs), `${(theirs / mine).toFixed(2)}x`, '']);
      };
      perSecond('loop', '  the same per CPU second of the event loop (a core to itself)');
      perSecond('server', '  the same per CPU second of the whole process (cost)');
      const peaksOf = (list: Array<{ peak?: number }>) => (list.every((r) => r.peak !== undefined) ? Math.max(...list.map((r) => r.peak!)) : undefined);
      const [ourPeak, theirPeak] = [peaksOf(runs.ours), peaksOf(runs.theirs)];
      if (ourPeak !== undefined && theirPeak !== undefined) {
        rows.push(['  peak resident memory during it (MB)', fmt(ourPeak), fmt(theirPeak), `${(ourPeak / theirPeak).toFixed(2)}x`, '']);
        peaks.ours = Math.max(peaks.ours, ourPeak);
        peaks.theirs = Math.max(peaks.theirs, theirPeak);
      }
    };
    const jwtReference = { ours, theirs: oidc, peaks: true };

    await compare(
      'client_credentials, ES256 JWT access token (tokens/s)',
      { url: `${asUrl}/token`, ...form(basic, 'grant_type=client_credentials') },
      { url: `${oidcUrl}/token`, ...form(oidcBasic, 'grant_type=client_credentials') },
      'at least 2x',
      jwtReference,
    );
    // The workloads a browser-like client drives through several requests (flows.ts), in this order.
    const flows: Array<[label: string, workload: string]> = [
      ['authorization code + PKCE flow over HTTP: authorize, login (scrypt), consent, token (flows/s)', 'code-flow'],
      ['the same flow by a signed-in user: authorize, consent, token; the sign-in session stands in for the password (flows/s)', 'code-flow-signed-in'],
      ['refresh token grant with rotation (refreshes/s)', 'refresh'],
    ];
    for (const [label, workload] of flows) {
      await compare(label, flow(workload, asUrl, '/authorize', clientSecret!), flow(workload, oidcUrl, '/auth', oidcSecret), 'at least 2x', jwtReference);
    }
    await compare(
      'the OpenID Connect sign-in by a signed-in user: authorize with a nonce, consent, token with an ID token, UserInfo (flows/s)',
      { ...flow('oidc-signed-in', asUrl, '/authorize', clientSecret!), scope: 'openid profile items:read', userinfoPath: '/userinfo' },
      { ...flow('oidc-signed-in', openIdUrl, '/auth', oidcSecret), scope: 'openid profile items:read', userinfoPath: '/me' },
      'at least 1x',
      { ours, theirs: openId, peaks: true },
    );
    await compareDPoP(compare, {
      flow, ours: { process: ours, issuer: asUrl, resourceServer: `http://127.0.0.1:${rsPort}`, secret: clientSecret! },
      jwt: { process: oidc, issuer: oidcUrl, secret: oidcSecret }, openId: { process: openId, issuer: openIdUrl, secret: oidcSecret },
    });
    const ourToken = await tokenOf(asUrl, basic);
    const theirToken = await tokenOf(opaqueUrl, oidcBasic);
    await compare(
      'introspection (req/s; the reference introspects its opaque tokens)',
      { url: `${asUrl}/introspect`, ...form(basic, `token=${ourToken}`) },
      { url: `${opaqueUrl}/token/introspection`, ...form(oidcBasic, `token=${theirToken}`) },
      'at least 1.5x',
      { ours, theirs: opaque, peaks: true },
    );
    // The reference has no resource server in it: compare the peaks of the authorization server workloads.
    // Where the high-water mark cannot be reset, it is the process's peak since it started.
    const [ourPeak, theirPeak] = peaks.ours > 0 ? [peaks.ours, peaks.theirs] : [peakRssMb(ours), Math.max(peakRssMb(oidc), peakRssMb(opaque))];
    const bare = await startProcess(join(here, 'bare-jose-resource.js'), [String(barePort), `${asUrl}/jwks.json`, asUrl, `http://127.0.0.1:${rsPort}`], {});
    children.push(bare);
    await compare(
      'resource server, validated requests with the revocation check (req/s; reference: bare Koa + jose jwtVerify)',
      { url: `http://127.0.0.1:${rsPort}/api/profile`, headers: { authorization: `Bearer ${ourToken}` } },
      { url: `http://127.0.0.1:${barePort}/`, headers: { authorization: `Bearer ${ourToken}` } },
      'at least 1.5x',
      // Not a memory comparison: the reference is a bare handler, ours is in the authorization server's process.
      { ours, theirs: bare, peaks: false },
    );
    rows.push(['peak resident memory under the authorization server workloads above (MB)', fmt(ourPeak), fmt(theirPeak), `${(ourPeak / theirPeak).toFixed(2)}x`, 'at most 1x']);
    return rows;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
    dir.remove();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
