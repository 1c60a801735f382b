import { randomUUID } from 'node:crypto';
import { runAdmin, type Io } from '../../src/cli/admin.js';
import { subscribe } from '../../src/cli/subscribe.js';
import { loadConfig } from '../../src/config/config.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { checkEventData } from '../../src/domain/event-catalog.js';
import { eventDefinitions } from '../../src/domain/events.js';
import { fold } from '../../src/domain/decider.js';
import { accessTokenStatus, grantDecider } from '../../src/domain/grant.js';
import type { GrantEvent } from '../../src/domain/events.js';
import { subjectOf } from '../../src/event-bus/event-bus.js';
import type { RecordedEvent } from '../../src/event-store/event-envelope.js';
import { openEventStore, openRawEventStore } from '../../src/system/adapters.js';
import { verifyChains } from '../../src/audit/verify-chains.js';
import { runCodeFlow, type FlowClient } from '../support/oauth-flow.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { waitFor } from '../support/wait-for.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const dir = tempDir();
let nats: NatsServer;
let system: TestSystem;
let web: FlowClient;

beforeAll(async () => {
  nats = await startNatsServer();
  system = await startSystem(dir.path, { natsUrl: nats.url });
  await system.as.admin.registerUser({ ...alice, name: 'Alice' });
  web = await registerWebClient(system);
  await system.as.readSide.waitFor(await system.as.store.headPosition());
});
afterAll(async () => {
  await system.close();
  await nats.dispose();
  dir.remove();
});

describe('the event catalog (AsyncAPI 3.0)', () => {
  it('describes every event type with its subject, schema version and JSON Schema, and every event written fits it', async () => {
    await runCodeFlow(system.config.issuer, web, alice, 'profile');
    const doc = (await (await fetch(`${system.config.issuer}/events/asyncapi.json`)).json()) as {
      asyncapi: string; channels: Record<string, { address: string }>;
      components: { messages: Record<string, { 'x-schema-version': number; payload: { properties: { data: { type: string; required: string[] } } } }> };
      operations: Record<string, { action: string }>;
    };
    expect(doc.asyncapi).toBe('3.0.0');
    expect(Object.keys(doc.channels).sort()).toEqual(Object.keys(eventDefinitions).sort());
    expect(Object.values(doc.operations).every((o) => o.action === 'receive')).toBe(true);
    const written = await system.as.store.readAll(0, 10_000);
    const types = new Set(written.map((e) => e.type));
    expect(types.size).toBeGreaterThan(8);
    for (const event of written) {
      expect(doc.channels[event.type].address).toBe(subjectOf(event));
      expect(doc.components.messages[event.type]['x-schema-version']).toBe(event.schemaVersion);
      expect(doc.components.messages[event.type].payload.properties.data.type).toBe('object');
      expect(() => checkEventData(event.type, event.data)).not.toThrow();
    }
    expect(doc.components.messages.AccessTokenIssued.payload.properties.data.required).toEqual(expect.arrayContaining(['jti', 'grantType', 'scopes']));
  });
});

describe('schema evolution', () => {
  it('replays an AccessTokenIssued written under schema version 1 as the current version', async () => {
    const grantId = randomUUID();
    const raw = openRawEventStore(loadConfig({ DATA_DIR: dir.path }));
    const v1 = {
      grantId, jti: `${grantId}.old`, kid: 'k-old', clientId: 'web', userId: 'u-old', audience: 'https://rs',
      scopes: ['profile'], issuedAt: '2025-01-01T00:00:00.000Z', expiresAt: '2025-01-01T00:10:00.000Z',
    };
    await raw.append(`grant-${grantId}`, [{ id: randomUUID(), type: 'AccessTokenIssued', data: v1, schemaVersion: 1, time: '2025-01-01T00:00:00.000Z', correlationId: 'old', causationId: null }], 'no_stream');
    await raw.close();

    const store = openEventStore(loadConfig({ DATA_DIR: dir.path }));
    const [read] = await store.readStream(`grant-${grantId}`);
    expect(read.schemaVersion).toBe(3);
    expect(read.data).toEqual({ ...v1, grantType: 'authorization_code' });
    expect(() => checkEventData(read.type, read.data)).not.toThrow();
    // The grant decider replays it like any other (no projection reads issued tokens).
    const state = fold(grantDecider, [read as unknown as GrantEvent]);
    expect(accessTokenStatus(state, `${grantId}.old`)).toEqual({ expiresAt: v1.expiresAt, revoked: false });
    await store.close();
    // Stored as written: the hash chain still verifies.
    const verifying = openRawEventStore(loadConfig({ DATA_DIR: dir.path }));
    expect((await verifyChains(verifying)).firstBreak).toBeUndefined();
    await verifying.close();
  });
});

describe('a subscriber anyone can copy', () => {
  it('prints token events, and after a restart resumes where it stopped, missing nothing that happened meanwhile', async () => {
    const lines: string[] = [];
    const options = { natsUrl: nats.url, durable: `printer-${randomUUID().slice(0, 8)}`, subject: 'oauth.grant.>', print: (l: string) => void lines.push(l) };
    const grantEventsNow = async () => (await system.as.store.readAll(0, 100_000)).filter((e) => e.stream.startsWith('grant-'));

    let subscriber = await subscribe(options);
    await waitFor(async () => lines.length === (await grantEventsNow()).length, 'the history so far', 10_000);
    await runCodeFlow(system.config.issuer, web, alice, 'profile');
    await waitFor(async () => lines.length === (await grantEventsNow()).length, 'the new grant', 10_000);
    await subscriber.stop();
    const seenBeforeStop = lines.length;

    // While it is down, more tokens are issued and one is revoked.
    const { tokens } = await runCodeFlow(system.config.issuer, web, alice, 'profile');
    await fetch(`${system.config.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${web.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: tokens.access_token }),
    });
    const everything = await grantEventsNow();
    await waitFor(() => system.as.relay.publishedPosition >= everything[everything.length - 1].position, 'the relay');
    expect(lines).toHaveLength(seenBeforeStop);

    subscriber = await subscribe(options);
    await waitFor(() => lines.length === everything.length, 'the events missed while down', 10_000);
    await new Promise((r) => setTimeout(r, 100));
    await subscriber.stop();
    const printed = lines.map((l) => JSON.parse(l) as RecordedEvent);
    expect(printed.map((e) => e.id)).toEqual(everything.map((e) => e.id));
    expect(printed.slice(seenBeforeStop).map((e) => e.type)).toContain('TokenRevoked');
  });
});

describe('the read-only audit API', () => {
  it('answers history and point-in-time queries to holders of an audit key, and nobody else', async () => {
    const out: string[] = [];
    const io: Io = { out: (l) => void out.push(l), err: () => {}, stdin: () => '' };
    // The command line writes to the secret store the running server reads.
    expect(await runAdmin(['audit-key', 'create', '--name', 'external auditor'], { DATA_DIR: dir.path, SEED_DEMO: 'false' }, io)).toBe(0);
    const key = /^audit key: (\S+)$/m.exec(out.join('\n'))![1];
    const { tokens } = await runCodeFlow(system.config.issuer, web, alice, 'profile');
    const grantId = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()).jti.split('.')[0];
    const get = (path: string, authorization?: string) => fetch(`${system.config.issuer}${path}`, { headers: authorization ? { authorization } : {} });

    const history = await get(`/audit/history?grant=${grantId}`, `Bearer ${key}`);
    expect(history.status).toBe(200);
    expect(history.headers.get('cache-control')).toBe('no-store');
    const { events } = (await history.json()) as { events: Array<{ type: string; actor: string; correlationId: string }> };
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['AuthorizationRequested', 'ConsentGranted', 'AccessTokenIssued']));
    const paged = (await (await get(`/audit/history?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&limit=2`, `Bearer ${key}`)).json()) as { events: unknown[]; truncated: boolean };
    expect(paged.events).toHaveLength(2);
    expect(paged.truncated).toBe(true);
    const byUser = (await (await get('/audit/history?user=alice', `Bearer ${key}`)).json()) as { events: unknown[] };
    expect(byUser.events.length).toBeGreaterThan(events.length);
    const at = (await (await get(`/audit/grants-at?user=alice&time=${new Date().toISOString()}`, `Bearer ${key}`)).json()) as { grants: Array<{ clientId: string }> };
    expect(at.grants.map((g) => g.clientId)).toContain('web');

    for (const authorization of [undefined, 'Bearer nope', `Bearer ${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, `Bearer ${tokens.access_token}`]) {
      const refused = await get(`/audit/history?grant=${grantId}`, authorization);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="audit"');
    }
    expect((await get('/audit/history', `Bearer ${key}`)).status).toBe(400);
    expect((await get('/audit/grants-at?user=alice&time=soon', `Bearer ${key}`)).status).toBe(400);
    // The cap is a cap: no count the parser would stretch into "everything" (security review, item 7).
    const range = 'from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z';
    for (const limit of ['-1', '0', '0.5', '1e9', '', ' 2', '0x10', '10001', '99999999999']) {
      const refused = await get(`/audit/history?${range}&limit=${encodeURIComponent(limit)}`, `Bearer ${key}`);
      expect([limit, refused.status, ((await refused.json()) as { error: string }).error]).toEqual([limit, 400, 'invalid_request']);
    }
    for (const time of ['1', '2026', '2026-11-22', 'Tue, 01 Dec 2026 10:00:00 GMT']) {
      expect([time, (await get(`/audit/history?from=${encodeURIComponent(time)}&to=2100-01-01T00:00:00Z`, `Bearer ${key}`)).status]).toEqual([time, 400]);
    }
  });
});
