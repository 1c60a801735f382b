import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oauth from 'oauth4webapi';
import { loadConfig } from '../../src/config/config.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { NatsJetStreamEventBus } from '../../src/event-bus/nats-jetstream-event-bus.js';
import type { BusConsumer } from '../../src/event-bus/event-bus.js';
import { openCommandSide } from '../../src/system/command-side.js';
import { freePort } from '../support/free-port.js';
import { idsOnJetStream } from '../support/jetstream.js';
import { startLoadBalancer, type LoadBalancer } from '../support/load-balancer.js';
import { authorizationUrl, discover, signInAndDecide, withNonceRetry } from '../support/oauth-flow.js';
import { startPostgres, type PrivatePostgres } from '../support/postgres.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { SIGNING_ALGS } from '../../src/keys/signing-keys.js';
import { UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Issue #23's deployment, for real: three authorization server processes, each with its own
 * empty data directory (as on three hosts), one PostgreSQL (the record and the shared state),
 * one nats-server, and a load balancer of the test's own in front, so clients see one issuer.
 * Client credentials requests run against all three for the whole test.
 */
const LEASE_TTL_MS = 1000;
/** The stated time for a rotated secret (docs/shared-state.md): LISTEN/NOTIFY wakes the read sides. */
const ROTATED_SECRET_REFUSED_WITHIN_MS = 2000;
const alice = { username: 'alice', password: 'correct horse battery' };
const redirectUri = 'http://127.0.0.1:9/cb';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const form = (url: string, authorization: string, body: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, body: new URLSearchParams(body) });

/** `oauth-admin`, as an operator runs it on one of the hosts. */
function oauthAdmin(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(process.cwd(), 'dist/src/cli/oauth-admin.js'), ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

/** Whether the instance says it holds the relay lease now: its last word on the lease was that it took it. */
function holdsRelayLease(server: ServerProcess): boolean {
  const said = server.output.filter((line) => /relay lease acquired|relay lease lost|relay fenced/.test(line));
  return said.length > 0 && said[said.length - 1].includes('relay lease acquired');
}

describe('three authorization server processes with their own empty data directories, one PostgreSQL and one nats-server', () => {
  const dirs = [tempDir(), tempDir(), tempDir()];
  /** Where the operator's oauth-admin runs: a fourth host with nothing on it either. */
  const adminDir = tempDir();
  let postgres: PrivatePostgres;
  let nats: NatsServer;
  let balancer: LoadBalancer;
  let watcherBus: NatsJetStreamEventBus | undefined;
  let watcher: BusConsumer | undefined;
  const servers: ServerProcess[] = [];
  const load = { running: false, done: Promise.resolve() as Promise<unknown> };

  afterAll(async () => {
    load.running = false;
    await load.done;
    await watcher?.stop();
    await watcherBus?.close();
    // A clean stop where it comes; SIGKILL where it does not.
    await Promise.all(servers.map((server) => Promise.race([server.kill('SIGTERM'), new Promise((r) => setTimeout(r, 5000).unref())]).then(() => server.kill('SIGKILL'))));
    await balancer?.close();
    await nats?.dispose();
    await postgres?.stop();
    for (const dir of [...dirs, adminDir]) dir.remove();
  });

  it('continue each other\'s flows, take the relay over from a killed holder, sign with a key rotated on one, and refuse a rotated secret at once', async () => {
    postgres = await startPostgres();
    nats = await startNatsServer();
    const databaseUrl = await postgres.createDatabase('oauth');
    const balancerPort = await freePort();
    const issuer = `http://127.0.0.1:${balancerPort}`;
    const shared = {
      DATABASE_URL: databaseUrl,
      SECRET_STORE_KEY: randomBytes(32).toString('base64url'),
      NATS_URL: nats.url,
      SERVICES: 'authorization-server',
      ISSUER: issuer,
      RELAY_LEASE_TTL_MS: String(LEASE_TTL_MS),
      SEED_DEMO: 'false',
    };

    // The operator registers the user and the clients before the servers start.
    const side = await openCommandSide(loadConfig({ ...shared, DATA_DIR: adminDir.path }));
    await side.admin.registerUser({ ...alice, name: 'Alice' });
    const web = await side.admin.registerClient({
      clientId: 'web', name: 'Web', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['openid', 'profile'], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    });
    const loadClient = await side.admin.registerClient({ clientId: 'load', name: 'Load', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['profile'], grantTypes: ['client_credentials'] });
    const rotating = await side.admin.registerClient({ clientId: 'rotating', name: 'Rotating', clientType: 'confidential', redirectUris: [redirectUri], scopes: ['profile'], grantTypes: ['client_credentials'] });
    await side.close();

    // Three hosts at once, as an orchestrator starts them.
    const ports = [await freePort(), await freePort(), await freePort()];
    const envOf = (i: number) => ({ ...shared, DATA_DIR: dirs[i].path, AS_PORT: String(ports[i]) });
    const starting = await Promise.allSettled(ports.map(async (port, i) => (servers[i] = await startServerProcess(envOf(i), port))));
    for (const started of starting) if (started.status === 'rejected') throw started.reason;
    const name = (url: string) => ['A', 'B', 'C'][servers.findIndex((s) => s.url === url)];
    // Started together on an empty store, they made one first key per algorithm between them, not one each.
    const firstKeys = await postgres.query<{ alg: string }>('oauth', "SELECT data->>'alg' AS alg FROM events WHERE type = 'SigningKeyGenerated' ORDER BY position");
    expect(firstKeys.map((key) => key.alg).sort()).toEqual([...SIGNING_ALGS].sort());
    balancer = await startLoadBalancer(balancerPort, servers.map((s) => s.url));

    // What JetStream receives, and when.
    watcherBus = await NatsJetStreamEventBus.connect(nats.url);
    const arrived = new Map<number, number>();
    watcher = await watcherBus.consume('three-hosts-watch', 'oauth.>', async (event) => void (arrived.has(event.position) || arrived.set(event.position, Date.now())));

    // Load: client credentials round-robin at the three, two at a time, for the whole test.
    const dead = new Set<ServerProcess>();
    const answers: Array<{ server: string; status: number }> = [];
    const failures: Array<{ server: string; error: string }> = [];
    load.running = true;
    const worker = async (first: number) => {
      for (let turn = first; load.running; turn++) {
        const server = servers[turn % servers.length];
        if (dead.has(server)) continue;
        try {
          const answer = await form(`${server.url}/token`, basic('load', loadClient.clientSecret!), { grant_type: 'client_credentials' });
          await answer.arrayBuffer();
          answers.push({ server: name(server.url), status: answer.status });
        } catch (error) {
          failures.push({ server: name(server.url), error: (error as Error).message });
        }
      }
    };
    load.done = Promise.all([worker(0), worker(1)]);

    // One flow, each request at the next instance: /authorize, the login page, the sign-in,
    // the consent page and the decision land on A, B, C, A, B; the cookies, CSRF tokens and
    // sealed authorization requests made by one are good at the next.
    const as = await discover(issuer);
    expect(as.issuer).toBe(issuer);
    const client: oauth.Client = { client_id: 'web' };
    const auth = oauth.ClientSecretBasic(web.clientSecret!);
    const started = balancer.log.length;
    const { url, codeVerifier, state } = await authorizationUrl(as, { clientId: 'web', clientSecret: web.clientSecret, redirectUri }, 'openid profile');
    const callback = await signInAndDecide(new UserAgent(), issuer, url, alice);
    const browserSteps = balancer.log.slice(started);
    expect(browserSteps.map((step) => step.path)).toEqual(['/authorize', '/login', '/login', '/consent', '/consent']);
    expect(new Set(browserSteps.map((step) => step.backend)).size).toBe(3);

    // The code redeemed at the next instance, refreshed at the next, read everywhere.
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, codeVerifier, insecure));
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure));
    const userinfo = await oauth.processUserInfoResponse(as, client, decodeJwt(tokens.id_token!).sub!, await oauth.userInfoRequest(as, client, refreshed.access_token, insecure));
    expect(userinfo.sub).toBe(decodeJwt(tokens.id_token!).sub);
    // Introspected at one, revoked at the next, inactive at the others.
    const introspect = async (token: string, server: ServerProcess) =>
      ((await (await form(`${server.url}/introspect`, basic('web', web.clientSecret!), { token })).json()) as { active: boolean; client_id?: string });
    for (const server of servers) expect(await introspect(refreshed.access_token, server)).toMatchObject({ active: true, client_id: 'web' });
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, refreshed.refresh_token!, insecure));
    for (const server of servers) {
      expect(await introspect(refreshed.refresh_token!, server)).toEqual({ active: false });
      expect(await introspect(refreshed.access_token, server)).toEqual({ active: false });
    }
    // The code, used once at one instance, is used at every one.
    for (const server of servers) {
      expect((await form(`${server.url}/token`, basic('web', web.clientSecret!), { grant_type: 'authorization_code', code: params.get('code')!, code_verifier: codeVerifier, redirect_uri: redirectUri })).status).toBe(400);
    }
    const tokenSteps = balancer.log.slice(started + browserSteps.length);
    expect(tokenSteps.map((step) => `${step.path} ${step.status}`)).toEqual(['/token 200', '/token 200', '/userinfo 200', '/revoke 200']);
    for (let i = 1; i < tokenSteps.length; i++) expect(tokenSteps[i].backend).not.toBe(tokenSteps[i - 1].backend);

    // A pushed request (RFC 9126) at one instance, the browser at the next with its
    // request_uri; DPoP proofs at each: the nonce one instance hands out is good at the others.
    const pkce = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(pkce);
    const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const pushedFrom = balancer.log.length;
    const goodPush = await withNonceRetry(
      () => oauth.pushedAuthorizationRequest(as, client, auth, { response_type: 'code', redirect_uri: redirectUri, scope: 'profile', state: 'p2', code_challenge: challenge, code_challenge_method: 'S256' }, { ...insecure, DPoP: dpop }),
      (response) => oauth.processPushedAuthorizationResponse(as, client, response),
    );
    const pushedCallback = await signInAndDecide(new UserAgent(), issuer, new URL(`${issuer}/authorize?${new URLSearchParams({ client_id: 'web', request_uri: goodPush.request_uri })}`), alice);
    const bound = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, oauth.validateAuthResponse(as, client, pushedCallback, 'p2'), redirectUri, pkce, { ...insecure, DPoP: dpop }));
    expect(bound.token_type).toBe('dpop');
    expect(decodeJwt(bound.access_token).cnf).toEqual({ jkt: await dpop.calculateThumbprint() });
    const pushedSteps = balancer.log.slice(pushedFrom);
    // One use_dpop_nonce in all of it: the first proof, which had no nonce yet.
    expect(pushedSteps.filter((step) => step.path === '/par' || step.path === '/token').map((step) => step.status)).toEqual([400, 201, 200]);
    expect(pushedSteps.find((step) => step.path === '/par' && step.status === 201)!.backend).not.toBe(pushedSteps.find((step) => step.path === '/authorize')!.backend);

    // A key rotated by an operator on one host (B's): every instance signs with it, and each one's
    // tokens verify at the others' introspection and with the JWKS any of them serves.
    const signedBefore = ((await (await form(`${servers[0].url}/token`, basic('web', web.clientSecret!), { grant_type: 'client_credentials' })).json()) as { access_token: string }).access_token;
    const rotated = await oauthAdmin(['keys', 'rotate', '--activate-after', '0', '--alg', 'ES256'], { ...shared, DATA_DIR: dirs[1].path });
    expect(rotated.code).toBe(0);
    const kid = /signing key (\S+);/.exec(rotated.out)![1];
    const signedBy = new Map<ServerProcess, string>();
    await waitFor(async () => {
      for (const server of servers) {
        if (signedBy.has(server)) continue;
        const answer = (await (await form(`${server.url}/token`, basic('web', web.clientSecret!), { grant_type: 'client_credentials' })).json()) as { access_token: string };
        if (decodeProtectedHeader(answer.access_token).kid === kid) signedBy.set(server, answer.access_token);
      }
      return signedBy.size === servers.length;
    }, `every instance signing with ${kid}`, 5000);
    for (const [signer, token] of signedBy) {
      for (const verifier of servers) {
        expect(await introspect(token, verifier)).toMatchObject({ active: true, client_id: 'web' });
        const jwks = (await (await fetch(`${verifier.url}/jwks.json`)).json()) as JSONWebKeySet;
        const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer, typ: 'at+jwt' });
        expect([name(signer.url), payload.client_id]).toEqual([name(signer.url), 'web']);
      }
    }

    // The key it replaced still verifies what it signed, everywhere.
    expect(decodeProtectedHeader(signedBefore).kid).not.toBe(kid);
    for (const server of servers) expect(await introspect(signedBefore, server)).toMatchObject({ active: true });

    // A client secret rotated by the operator on one host (C's): the old one refused by every
    // instance within the stated time, the new one taken by all.
    for (const server of servers) expect((await form(`${server.url}/token`, basic('rotating', rotating.clientSecret!), { grant_type: 'client_credentials' })).status).toBe(200);
    // Each instance asked over and over with the old secret from before the rotation until it refuses it.
    const refusedAt = Promise.all(servers.map(async (server) => {
      for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
        const status = (await form(`${server.url}/token`, basic('rotating', rotating.clientSecret!), { grant_type: 'client_credentials' })).status;
        if (status === 401) return Date.now();
        expect(status).toBe(200);
      }
      return Infinity;
    }));
    const rotation = await oauthAdmin(['client', 'rotate-secret', '--id', 'rotating'], { ...shared, DATA_DIR: dirs[2].path });
    expect(rotation.code).toBe(0);
    const newSecret = /new client_secret for rotating: (\S+)/.exec(rotation.out)![1];
    // From the rotation's own time, taken before its event was appended: an upper bound.
    const [{ time }] = await postgres.query<{ time: string }>('oauth', "SELECT time FROM events WHERE type = 'ClientSecretRotated' AND stream = 'client-rotating'");
    const refusedAfter = (await refusedAt).map((at) => at - Date.parse(time));
    console.log(`rotated client secret: refused at ${servers.map((s, i) => `${name(s.url)} ${refusedAfter[i]} ms`).join(', ')} after the rotation (from its event's time)`);
    for (const after of refusedAfter) expect(after).toBeLessThan(ROTATED_SECRET_REFUSED_WITHIN_MS);
    for (const server of servers) {
      expect((await form(`${server.url}/token`, basic('rotating', newSecret), { grant_type: 'client_credentials' })).status).toBe(200);
      expect((await form(`${server.url}/token`, basic('rotating', rotating.clientSecret!), { grant_type: 'client_credentials' })).status).toBe(401);
    }

    // The relay: one holder; killed without a word, another publishes within the lease time.
    const holders = () => servers.filter((server) => !dead.has(server) && holdsRelayLease(server));
    await waitFor(() => holders().length === 1, 'one relay lease holder', 5000);
    const [holder] = holders();
    const head = async () => Number((await postgres.query<{ position: string }>('oauth', 'SELECT position FROM event_log_head'))[0].position);
    const killedAt = Date.now();
    dead.add(holder);
    await holder.kill('SIGKILL');
    // Read once it is gone: whatever comes after this position, only a new holder can have published.
    const before = await head();
    await waitFor(() => [...arrived.keys()].some((position) => position > before), 'an event appended after the kill on JetStream', 10_000);
    const takeoverMs = Math.min(...[...arrived].filter(([position]) => position > before).map(([, at]) => at)) - killedAt;
    await waitFor(() => holders().length === 1, 'the new holder to say so', 5000);
    console.log(`relay: ${name(holder.url)} killed; ${name(holders()[0].url)} published the next event ${takeoverMs} ms later (lease ${LEASE_TTL_MS} ms)`);
    // The lease runs out at most its TTL after the last renewal; a standby tries every third of it.
    expect(takeoverMs).toBeLessThan(LEASE_TTL_MS + 1000);
    // The balancer routes around the dead instance; clients see nothing but answers.
    for (let i = 0; i < 6; i++) expect((await form(`${issuer}/token`, basic('web', web.clientSecret!), { grant_type: 'client_credentials' })).status).toBe(200);

    // The load: every answer a success; the only failures are connections to the killed instance.
    load.running = false;
    await load.done;
    expect(answers.length).toBeGreaterThan(50);
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(new Set(answers.map((answer) => answer.server))).toEqual(new Set(['A', 'B', 'C']));
    expect(failures.filter((failure) => failure.server !== name(holder.url))).toEqual([]);
    console.log(`load: ${answers.length} client credentials grants across the three, ${failures.length} connection(s) lost with the killed instance`);

    // Every event on JetStream exactly once and in the store's order, once nothing moves any more.
    await waitFor(async () => {
      const at = await head();
      await new Promise((r) => setTimeout(r, 300));
      return at === (await head()) && arrived.has(at);
    }, 'the store to settle and the relay to publish it all', 10_000);
    const stored = await postgres.query<{ id: string }>('oauth', 'SELECT id FROM events ORDER BY position');
    expect(await idsOnJetStream(nats.url, 'three-hosts-final', stored.length)).toEqual(stored.map((row) => row.id));

    // No host wrote anything of the shared state to its own disk.
    // (Not a *.sqlite, not a secret-store.key: nothing at all.)
    for (const dir of [...dirs, adminDir]) expect(readdirSync(dir.path)).toEqual([]);
  }, 90_000);
});
