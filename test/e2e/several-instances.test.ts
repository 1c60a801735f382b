import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { openRawEventStore } from '../../src/system/adapters.js';
import { openCommandSide } from '../../src/system/command-side.js';
import { freePort } from '../support/free-port.js';
import { idsOnJetStream } from '../support/jetstream.js';
import { signInAndDecide } from '../support/oauth-flow.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { hiddenFields, UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait-for.js';

describe('two authorization server processes on one event store', () => {
  const dir = tempDir();
  let nats: NatsServer;
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const server of servers) await server.kill('SIGKILL');
    await nats.dispose();
    dir.remove();
  });

  it('serve the same clients: a code issued by one is redeemed at the other; one relay runs, and another takes over when it dies', async () => {
    nats = await startNatsServer();
    const [portA, portB] = [await freePort(), await freePort()];
    // Both answer as one issuer, as behind a load balancer.
    const env = { DATA_DIR: dir.path, NATS_URL: nats.url, SERVICES: 'authorization-server', ISSUER: `http://127.0.0.1:${portA}`, RELAY_LEASE_TTL_MS: '600' };
    const side = await openCommandSide(loadConfig(env));
    await side.admin.registerUser({ username: 'alice', password: 'correct horse battery', name: 'Alice' });
    const { clientSecret } = await side.admin.registerClient({
      clientId: 'web', name: 'Web', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/cb'], scopes: ['profile'], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    });
    await side.close();
    servers.push(await startServerProcess({ ...env, AS_PORT: String(portA) }, portA));
    servers.push(await startServerProcess({ ...env, AS_PORT: String(portB) }, portB));
    const [a, b] = servers;

    // Login and consent at A; the code redeemed at B.
    const verifier = 'v'.repeat(43);
    const url = new URL(`${a.url}/authorize`);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'web', redirect_uri: 'http://127.0.0.1:9/cb', scope: 'profile', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' })) url.searchParams.set(k, v);
    const browser = new UserAgent();
    const callback = await signInAndDecide(browser, a.url, url, { username: 'alice', password: 'correct horse battery' });
    // The sign-in session is in the store, so B knows the browser too: no password at its authorization or account page.
    url.searchParams.set('state', 'at-b');
    // prompt=consent: the consent given at A must not send the browser straight back (that is tested elsewhere).
    url.searchParams.set('prompt', 'consent');
    const atB = await browser.get(url.toString().replace(a.url, b.url));
    expect(atB.status).toBe(303);
    expect(new URL(atB.headers.get('location')!, b.url).pathname).toBe('/consent');
    expect(await (await browser.get(`${b.url}/account`)).text()).toContain('Applications that can act for you');
    const basic = `Basic ${Buffer.from(`web:${clientSecret}`).toString('base64')}`;
    const tokenAt = (server: ServerProcess, body: Record<string, string>) =>
      fetch(`${server.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic }, body: new URLSearchParams(body) });
    const redeemed = await tokenAt(b, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:9/cb' });
    expect(redeemed.status).toBe(200);
    const tokens = (await redeemed.json()) as { access_token: string; refresh_token: string };
    // ...and the same code again at A: one store, so A knows it was used.
    expect((await tokenAt(a, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:9/cb' })).status).toBe(400);
    expect(JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()).iss).toBe(a.url);

    // Exactly one relay holds the lease.
    const holds = (server: ServerProcess) => server.output.filter((l) => l.includes('relay lease acquired')).length;
    await waitFor(() => holds(a) + holds(b) === 1, 'one relay', 5000);
    const [holder, other] = holds(a) === 1 ? [a, b] : [b, a];

    // The holder dies without a word; more tokens are issued at the other instance.
    await holder.kill('SIGKILL');
    for (let i = 0; i < 20; i++) expect((await tokenAt(other, { grant_type: 'client_credentials' })).status).toBe(200);
    await waitFor(() => holds(other) === 1, 'the other instance to take over', 5000);

    const store = openRawEventStore(loadConfig(env));
    const stored = await store.readAll(0, 100_000);
    await store.close();
    const seen = await idsOnJetStream(nats.url, 'after-takeover', stored.length);
    expect(seen).toEqual(stored.map((e) => e.id));
  });
});

describe('two instances on one data directory, without NATS', () => {
  const dir = tempDir();
  const servers: ServerProcess[] = [];
  let a: ServerProcess;
  let b: ServerProcess;
  let privateKey: CryptoKey;
  const issuer = { value: '' };
  beforeAll(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    issuer.value = `http://127.0.0.1:${portA}`;
    const env = { DATA_DIR: dir.path, SERVICES: 'authorization-server', ISSUER: issuer.value };
    const keys = await generateKeyPair('ES256');
    privateKey = keys.privateKey;
    const side = await openCommandSide(loadConfig(env));
    await side.admin.registerClient({
      clientId: 'pk', name: 'Key client', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/pk'], scopes: ['profile'],
      tokenEndpointAuthMethod: 'private_key_jwt', grantTypes: ['client_credentials'], jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' }] },
    });
    await side.admin.registerUser({ username: 'alice', password: 'correct horse battery', name: 'Alice' });
    await side.close();
    servers.push(await startServerProcess({ ...env, AS_PORT: String(portA) }, portA));
    servers.push(await startServerProcess({ ...env, AS_PORT: String(portB) }, portB));
    [a, b] = servers;
  });
  afterAll(async () => {
    for (const server of servers) await server.kill('SIGTERM');
    dir.remove();
  });

  it('refuse at one a client assertion used at the other: the store, not a process, remembers its jti', async () => {
    const jti = randomUUID();
    const assertion = await new SignJWT({ jti }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('pk').setSubject('pk')
      .setAudience(issuer.value).setIssuedAt().setExpirationTime('2m').sign(privateKey);
    const tokenAt = (server: ServerProcess) => fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
    });
    expect((await tokenAt(a)).status).toBe(200);
    const replayed = await tokenAt(b);
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toEqual({ error: 'invalid_client', error_description: 'this client assertion was already used' });

    const store = openRawEventStore(loadConfig({ DATA_DIR: dir.path }));
    const accepted = (await store.readAll(0, 100_000)).filter((e) => e.type === 'ClientAssertionAccepted');
    await store.close();
    expect(accepted.map((e) => e.data)).toEqual([{ clientId: 'pk', jti, expiresAt: expect.any(String) }]);
  });

  it('count an address\'s failed sign-ins together: twenty across both throttle it at both', async () => {
    const signInAt = async (server: ServerProcess, username: string, password: string) => {
      const browser = new UserAgent();
      const page = await (await browser.get(`${server.url}/account`)).text();
      return (await browser.postForm(`${server.url}/account/login`, { ...hiddenFields(page), username, password })).status;
    };
    // Ten wrong guesses at each, for twenty different accounts: no account reaches its own limit.
    for (let i = 0; i < 20; i++) expect(await signInAt(i % 2 ? b : a, `nobody-${i}`, 'a wrong guess')).toBe(401);
    expect(await signInAt(a, 'alice', 'correct horse battery')).toBe(429);
    expect(await signInAt(b, 'alice', 'correct horse battery')).toBe(429);
  });
});
