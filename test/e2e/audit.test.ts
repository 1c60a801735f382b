import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runAudit } from '../../src/cli/audit.js';
import type { Io } from '../../src/cli/admin.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { SqliteEventStore } from '../../src/event-store/sqlite-event-store.js';
import { runCodeFlow } from '../support/oauth-flow.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';

const alice = { username: 'alice', password: 'correct horse battery' };

function captureIo(): Io & { lines: string[]; errors: string[]; progressed: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  const progressed: string[] = [];
  return { lines, errors, progressed, out: (l) => void lines.push(l), err: (l) => void errors.push(l), stdin: () => '', progress: (t) => void progressed.push(t) };
}

describe('oauth-audit, for auditors, reading the store itself', () => {
  const dir = tempDir();
  const env = { DATA_DIR: dir.path };
  let nats: NatsServer;
  let system: TestSystem | undefined;
  let aliceId: string;
  let grantIds: string[];
  let times: { beforeAll: string; afterFirst: string; afterRevocation: string };

  beforeAll(async () => {
    nats = await startNatsServer();
    system = await startSystem(dir.path, { natsUrl: nats.url });
    const before = new Date().toISOString();
    aliceId = (await system.as.admin.registerUser({ ...alice, name: 'Alice' })).userId;
    const web = await registerWebClient(system, ['profile', 'items:read']);
    await system.as.admin.registerClient({ clientId: 'spa', name: 'SPA', clientType: 'public', redirectUris: ['http://127.0.0.1:9/spa'], scopes: ['profile'] });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const first = await runCodeFlow(system.config.issuer, web, alice, 'profile');
    await new Promise((r) => setTimeout(r, 5));
    const afterFirst = new Date().toISOString();
    const second = await runCodeFlow(system.config.issuer, { clientId: 'spa', clientSecret: null, redirectUri: 'http://127.0.0.1:9/spa' }, alice, 'profile');
    await fetch(`${system.config.issuer}/revoke`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: second.tokens.refresh_token!, client_id: 'spa' }),
    });
    await new Promise((r) => setTimeout(r, 5));
    times = { beforeAll: before, afterFirst, afterRevocation: new Date().toISOString() };
    const grantOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).jti.split('.')[0] as string;
    grantIds = [grantOf(first.tokens.access_token), grantOf(second.tokens.access_token)];
    await system.rs.projections.waitFor(await system.as.store.headPosition());
    await system.close();
    system = undefined;
  });
  afterAll(async () => {
    await system?.close();
    await nats.dispose();
    dir.remove();
  });

  it('prints one grant\'s timeline as a table: every step, with time, actor and correlation id', async () => {
    const io = captureIo();
    expect(await runAudit(['history', '--grant', grantIds[0]], env, io)).toBe(0);
    expect(io.lines[0]).toMatch(/^time\s+event\s+actor\s+stream\s+correlation id$/);
    const rows = io.lines.slice(2, -1);
    expect(rows.map((r) => r.split(/\s{2,}/)[1])).toEqual([
      'AuthorizationRequested', 'UserAuthenticated', 'ConsentGranted', 'AuthorizationCodeIssued', 'AuthorizationCodeRedeemed', 'AccessTokenIssued', 'RefreshTokenIssued',
    ]);
    expect(rows[1]).toContain(`user:${aliceId}`);
    expect(rows[4]).toContain('client:web');
    expect(io.lines.at(-1)).toBe('7 events');
  });

  it('prints a user\'s history as JSON lines, across grants and clients, with the revocation and who did it', async () => {
    const io = captureIo();
    expect(await runAudit(['history', '--user', 'alice', '--json'], env, io)).toBe(0);
    const entries = io.lines.map((l) => JSON.parse(l) as { type: string; stream: string; actor: string; correlationId: string; time: string });
    const [sessions, others] = [entries.filter((e) => e.stream.startsWith('session-')), entries.filter((e) => !e.stream.startsWith('session-'))];
    expect(new Set(others.map((e) => e.stream))).toEqual(new Set([`user-alice`, `grant-${grantIds[0]}`, `grant-${grantIds[1]}`]));
    // Each password sign-in started a sign-in session, which is hers too.
    expect(sessions.map((e) => [e.type, e.actor])).toEqual([
      ['SignInSessionStarted', `user:${aliceId}`],
      ['SignInSessionStarted', `user:${aliceId}`],
    ]);
    expect(entries.find((e) => e.type === 'GrantRevoked')).toMatchObject({ actor: 'client:spa', stream: `grant-${grantIds[1]}` });
    expect(entries.every((e) => typeof e.correlationId === 'string' && e.time)).toBe(true);
  });

  it('filters by client and by time range', async () => {
    const byClient = captureIo();
    await runAudit(['history', '--client', 'spa', '--json'], env, byClient);
    const streams = new Set(byClient.lines.map((l) => (JSON.parse(l) as { stream: string }).stream));
    expect(streams).toEqual(new Set(['client-spa', `grant-${grantIds[1]}`]));
    const range = captureIo();
    await runAudit(['history', '--from', times.afterFirst, '--to', times.afterRevocation, '--json'], env, range);
    const inRange = range.lines.map((l) => JSON.parse(l) as { stream: string; time: string });
    expect(inRange.length).toBeGreaterThan(0);
    expect(inRange.every((e) => e.time >= times.afterFirst && e.time < times.afterRevocation)).toBe(true);
    expect(inRange.some((e) => e.stream === `grant-${grantIds[0]}`)).toBe(false);
  });

  it('says which clients could act for the user at a given moment, replaying only up to it', async () => {
    const at = async (time: string) => {
      const io = captureIo();
      expect(await runAudit(['at', '--user', 'alice', '--time', time, '--json'], env, io)).toBe(0);
      return io.lines.map((l) => JSON.parse(l) as { clientId: string; scopes: string[]; until: string });
    };
    expect(await at(times.beforeAll)).toEqual([]);
    const afterFirst = await at(times.afterFirst);
    expect(afterFirst.map((g) => g.clientId)).toEqual(['web']);
    expect(afterFirst[0].scopes).toEqual(['profile']);
    expect(Date.parse(afterFirst[0].until) - Date.parse(times.afterFirst)).toBeGreaterThan(29 * 86_400_000);
    // spa's grant was revoked by then; web's is still live.
    expect((await at(times.afterRevocation)).map((g) => g.clientId)).toEqual(['web']);
  });

  it('rebuilds each projection and finds it equal to the resource server\'s live copy', async () => {
    const io = captureIo();
    expect(await runAudit(['rebuild', 'all'], env, io)).toBe(0);
    expect(io.lines.filter((l) => l.endsWith('matches the live copy')).map((l) => l.split(':')[0])).toEqual(['users', 'signing-keys', 'token-status']);
    expect(io.progressed.join('')).toMatch(/rebuild token-status \[#+\] 100%/);

    const live = new Database(join(dir.path, 'resource-server-projections.sqlite'));
    live.prepare("UPDATE documents SET value = '{\"revoked\":false}' WHERE projection = 'token-status' AND key LIKE 'grant:%'").run();
    live.close();
    const tampered = captureIo();
    expect(await runAudit(['rebuild', 'token-status'], env, tampered)).toBe(1);
    expect(tampered.lines[0]).toMatch(/^token-status: .* DIFFERS from the live copy .* first at key grant:/);
  });

  it('verifies every hash chain, and names the event someone edited in the SQLite file', async () => {
    const ok = captureIo();
    expect(await runAudit(['verify'], env, ok)).toBe(0);
    expect(ok.lines[0]).toMatch(/^ok: \d+ events, every hash chain intact, no event missing$/);

    const db = new Database(join(dir.path, 'events.sqlite'));
    const target = db.prepare<[string], { id: string; data: string }>("SELECT id, data FROM events WHERE stream = ? AND type = 'ConsentGranted'").get(`grant-${grantIds[0]}`)!;
    db.prepare('UPDATE events SET data = ? WHERE id = ?').run(target.data.replace('"profile"', '"profile","items:read"'), target.id);
    db.close();
    const tampered = captureIo();
    expect(await runAudit(['verify'], env, tampered)).toBe(1);
    expect(tampered.errors[0]).toBe(
      `TAMPERED: event ${target.id} (stream grant-${grantIds[0]}, revision 2, position ${tampered.errors[0].match(/position (\d+)/)![1]}, ConsentGranted): its hash does not match its content and the event before it`,
    );
  });

  it.each([
    // The newest event of grant-a: its stream's chain alone still looks whole.
    ['the newest event of a stream', 3],
    // The newest event of all leaves no gap behind it, but the store had numbered it.
    ['the newest event of all', 4],
  ])('names %s removed from the SQLite file', async (_, position) => {
    const removed = tempDir();
    try {
      const store = new SqliteEventStore(join(removed.path, 'events.sqlite'));
      const event = () => ({ id: crypto.randomUUID(), type: 'Something', data: { n: 1 }, schemaVersion: 1, time: new Date().toISOString(), correlationId: 'c', causationId: null });
      for (const stream of ['grant-a', 'grant-b', 'grant-a', 'grant-b']) await store.append(stream, [event()], 'any');
      await store.close();
      const verify = async () => {
        const io = captureIo();
        return { code: await runAudit(['verify'], { DATA_DIR: removed.path }, io), io };
      };
      expect((await verify()).code).toBe(0);
      const db = new Database(join(removed.path, 'events.sqlite'));
      db.prepare('DELETE FROM events WHERE position = ?').run(position);
      db.close();
      const after = await verify();
      expect(after.code).toBe(1);
      expect(after.io.errors).toEqual([`TAMPERED: the event at position ${position} is missing: the store numbers events without gaps, so it was removed`]);
    } finally {
      removed.remove();
    }
  });

  it('answers usage errors with exit code 2 and the help', async () => {
    for (const argv of [['history'], ['history', '--user', 'a', '--client', 'b'], ['at', '--user', 'alice', '--time', 'yesterday'], ['rebuild', 'nope'], ['dance']]) {
      const io = captureIo();
      expect(await runAudit(argv, env, io)).toBe(2);
      expect(io.errors.join('\n')).toContain('Usage:');
    }
  });
});
