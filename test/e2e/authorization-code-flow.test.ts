import * as oauth from 'oauth4webapi';
import { NatsJetStreamEventBus } from '../../src/event-bus/nats-jetstream-event-bus.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { runCodeFlow, type FlowClient } from '../support/oauth-flow.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const alice = { username: 'alice', password: 'correct horse battery' };

describe.each([['embedded (SQLite + in-process bus)', false], ['NATS JetStream', true]])('the seven steps, %s', (_name, withNats) => {
  const dir = tempDir();
  let nats: NatsServer | undefined;
  let system: TestSystem;
  let confidential: FlowClient;
  let publicClient: FlowClient;

  beforeAll(async () => {
    if (withNats) nats = await startNatsServer();
    system = await startSystem(dir.path, { natsUrl: nats?.url });
    await system.as.admin.registerUser({ ...alice, name: 'Alice', email: 'alice@example.com' });
    const registered = await system.as.admin.registerClient({
      clientId: 'web', name: 'Web App', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/cb'], scopes: ['profile', 'items:read'],
    });
    confidential = { clientId: 'web', clientSecret: registered.clientSecret, redirectUri: 'http://127.0.0.1:9/cb' };
    await system.as.admin.registerClient({
      clientId: 'spa', name: 'Single Page App', clientType: 'public', redirectUris: ['http://127.0.0.1:9/spa'], scopes: ['profile'],
    });
    publicClient = { clientId: 'spa', clientSecret: null, redirectUri: 'http://127.0.0.1:9/spa' };
    await system.as.readSide.waitFor(await system.as.store.headPosition());
  });
  afterAll(async () => {
    await system.close();
    await nats?.dispose();
    dir.remove();
  });

  it('runs a strict client (oauth4webapi) through login and consent to an RFC 9068 token, and the resource server serves it', async () => {
    const { tokens, callback } = await runCodeFlow(system.config.issuer, confidential, alice);
    expect(callback.searchParams.get('iss')).toBe(system.config.issuer);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.scope).toBe('profile items:read');
    expect(tokens.expires_in).toBe(600);

    const [header, payload] = tokens.access_token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({ iss: system.config.issuer, aud: system.config.resourceServerUrl, client_id: 'web', scope: 'profile items:read' });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.exp - payload.iat).toBe(600);

    // Steps 6 and 7, through the bus-fed projections of the resource server.
    const rs = new URL(system.config.resourceServerUrl);
    rs.port = String(system.rs.port);
    await system.rs.projections.waitFor(await system.as.store.headPosition());
    const profile = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL('/api/profile', rs), undefined, undefined, {
      [oauth.allowInsecureRequests]: true,
    });
    expect(profile.status).toBe(200);
    expect(await profile.json()).toEqual({ sub: payload.sub, username: 'alice', name: 'Alice', email: 'alice@example.com' });
    const items = await fetch(new URL('/api/items', rs), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(items.status).toBe(200);
    expect(((await items.json()) as { items: Array<{ title: string }> }).items[0].title).toBe('Welcome, alice');
  });

  it('serves a public client that authenticates with "none"', async () => {
    const { tokens } = await runCodeFlow(system.config.issuer, publicClient, alice, 'profile');
    expect(tokens.scope).toBe('profile');
  });

  it('leaves the grant history in the store, and no secret in any event', async () => {
    const { tokens, code } = await runCodeFlow(system.config.issuer, confidential, alice);
    const jti = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()).jti;
    const all: RecordedEvent[] = await system.as.store.readAll(0, 100_000);
    const issued = all.find((e) => e.type === 'AccessTokenIssued' && e.data.jti === jti)!;
    const grant = all.filter((e) => e.stream === issued.stream).map((e) => e.type);
    expect(grant).toEqual([
      'AuthorizationRequested', 'UserAuthenticated', 'ConsentGranted', 'AuthorizationCodeIssued', 'AuthorizationCodeRedeemed', 'AccessTokenIssued',
      'RefreshTokenIssued',
    ]);
    expect(issued.stream).toMatch(/^grant-/);
    const everything = JSON.stringify(all);
    for (const secret of [code, code.split('.')[1], tokens.access_token, tokens.refresh_token!, tokens.refresh_token!.split('.')[1], confidential.clientSecret!, alice.password]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toMatch(/"d":"/); // no private JWK member
    const logs = system.logLines.join('\n');
    for (const secret of [code, tokens.access_token, tokens.refresh_token!, confidential.clientSecret!, alice.password]) expect(logs).not.toContain(secret);
    // One grep joins a request's log line to the events it caused.
    const tokenRequest = system.logLines.map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'request' && l.path === '/token' && l.status === 200 && l.requestId === issued.correlationId);
    expect(tokenRequest).toMatchObject({ level: 30, server: 'authorization-server', method: 'POST', time: expect.any(String) });
    if (withNats) {
      // What JetStream carried, read back by a subscriber of our own: the same events, no secret either.
      await waitFor(() => system.as.relay.publishedPosition === all[all.length - 1].position, 'the relay');
      const bus = await NatsJetStreamEventBus.connect(nats!.url);
      const carried: RecordedEvent[] = [];
      await bus.consume('secret-audit', 'oauth.>', async (event) => void carried.push(event));
      await waitFor(() => carried.length === all.length, 'every event over NATS');
      await bus.close();
      expect(carried.map((e) => e.id)).toEqual(all.map((e) => e.id));
      const wire = JSON.stringify(carried);
      for (const secret of [code, tokens.access_token, confidential.clientSecret!, alice.password]) expect(wire).not.toContain(secret);
    }
  });
});
