import { createConnection, createServer, type Socket } from 'node:net';
import * as oauth from 'oauth4webapi';
import { PostgresEventStore } from '../../src/event-store/postgres-event-store.js';
import { StoreUnavailableError } from '../../src/event-store/store-unavailable.js';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { idsOnJetStream } from '../support/jetstream.js';
import { authorizationUrl, discover, type FlowClient } from '../support/oauth-flow.js';
import { startPostgres, type PrivatePostgres } from '../support/postgres.js';
import { anEvent, uniqueStream } from '../support/events.js';
import { memoryLogger, registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait-for.js';

const insecure = { [oauth.allowInsecureRequests]: true };
const alice = { username: 'alice', password: 'correct horse battery' };
/** What a request may take while PostgreSQL is away: the store's timeouts answer within about five seconds. */
const ANSWERED_WITHIN_MS = 6500;

/** One token request of the load and what came of it. */
interface Answer {
  startedAt: number;
  endedAt: number;
  status: number | 'no answer';
  jti?: string;
  error?: string;
  retryAfter?: string | null;
  cacheControl?: string | null;
}

const dir = tempDir();
let postgres: PrivatePostgres;
let nats: NatsServer;
let system: TestSystem;
let as: oauth.AuthorizationServer;
let machineSecret: string;
let web: FlowClient;

beforeAll(async () => {
  postgres = await startPostgres();
  nats = await startNatsServer();
  // With DATABASE_URL the shared state lives in PostgreSQL too, private keys sealed with this key.
  const env = { DATABASE_URL: await postgres.createDatabase('oauth'), SECRET_STORE_KEY: Buffer.alloc(32, 7).toString('base64url') };
  system = await startSystem(dir.path, { natsUrl: nats.url, env });
  await system.as.admin.registerUser({ ...alice, name: 'Alice' });
  web = await registerWebClient(system);
  ({ clientSecret: machineSecret } = (await system.as.admin.registerClient({
    clientId: 'machine', name: 'Machine', clientType: 'confidential', redirectUris: ['https://machine.example/cb'], scopes: ['items:read'], grantTypes: ['client_credentials'],
  })) as { clientSecret: string });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  as = await discover(system.config.issuer);
}, 60_000);

afterAll(async () => {
  await system?.close();
  await nats?.dispose();
  await postgres?.stop();
  dir.remove();
});

/** client_credentials requests, `workers` at a time, until stopped: every answer kept. */
function tokenLoad(workers: number) {
  const answers: Answer[] = [];
  let running = true;
  const machine = { client_id: 'machine' };
  const one = async (): Promise<Answer> => {
    const startedAt = Date.now();
    let response: Response;
    try {
      response = await oauth.clientCredentialsGrantRequest(as, machine, oauth.ClientSecretBasic(machineSecret), {}, insecure);
    } catch (error) {
      return { startedAt, endedAt: Date.now(), status: 'no answer', error: String(error) };
    }
    const answer: Answer = { startedAt, endedAt: 0, status: response.status, retryAfter: response.headers.get('retry-after'), cacheControl: response.headers.get('cache-control') };
    if (response.status === 200) {
      const tokens = await oauth.processClientCredentialsResponse(as, machine, response);
      answer.jti = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()).jti;
    } else {
      answer.error = await response.text().then((body) => (JSON.parse(body) as { error?: string }).error, (error: unknown) => String(error)).catch(() => 'not JSON');
    }
    answer.endedAt = Date.now();
    return answer;
  };
  const loops = Array.from({ length: workers }, async () => {
    while (running) answers.push(await one());
  });
  return {
    answers,
    /** Answers to requests sent after `since`. */
    after: (since: number) => answers.filter((a) => a.startedAt >= since),
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

const readiness = async () => {
  const response = await fetch(`${system.config.issuer}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, true | string> } };
};

/** A browser signed in as alice, on the consent page of a code flow: approving it records the code. */
async function atConsent(): Promise<{ browser: UserAgent; fields: Record<string, string> }> {
  const browser = new UserAgent();
  const { url } = await authorizationUrl(as, web, 'profile');
  const toLogin = await browser.get(url.toString());
  const loginPage = await browser.get(location(toLogin, system.config.issuer).toString());
  const login = await browser.postForm(`${system.config.issuer}/login`, { ...hiddenFields(await loginPage.text()), ...alice });
  expect(login.status).toBe(303);
  const consentPage = await browser.get(location(login, system.config.issuer).toString());
  return { browser, fields: hiddenFields(await consentPage.text()) };
}

/** Takes PostgreSQL away under the load, checks what the server answers meanwhile, and brings it back. */
async function outage(load: ReturnType<typeof tokenLoad>, mode: 'fast' | 'immediate', consent: { browser: UserAgent; fields: Record<string, string> }) {
  await postgres.pause(mode);
  const away = Date.now();
  await waitFor(() => load.after(away).some((a) => a.status === 503), 'a 503 while PostgreSQL is away', 10_000);
  // Not ready while the store is away, and saying which check failed.
  await waitFor(async () => (await readiness()).status === 503, '/readyz to say not ready', 5000);
  expect((await readiness()).body.checks.eventStore).not.toBe(true);
  // A browser step that records (consent: the code and its event) gets a page, not a stack.
  const approve = await consent.browser.postForm(`${system.config.issuer}/consent`, { ...consent.fields, decision: 'approve' });
  expect(approve.status).toBe(503);
  expect(approve.headers.get('content-type')).toMatch(/^text\/html/);
  expect(approve.headers.get('cache-control')).toBe('no-store');
  expect(approve.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(approve.headers.get('location')).toBeNull();
  const page = await approve.text();
  expect(page).toMatch(/try again/i);
  expect(page).not.toMatch(/StoreUnavailableError|ECONNREFUSED|127\.0\.0\.1|\bat .*\.ts:\d+/);
  // At /authorize from a signed-in browser (its session is read from the store), the redirect
  // URI known good: the client hears it and may try again (RFC 6749 section 4.1.2.1).
  const { url } = await authorizationUrl(as, web, 'profile');
  const refused = location(await consent.browser.get(url.toString()), system.config.issuer);
  expect(`${refused.origin}${refused.pathname}`).toBe(web.redirectUri);
  expect(refused.searchParams.get('error')).toBe('temporarily_unavailable');
  // Long enough for several rounds of every worker against a server that is away.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const back = Date.now();
  // No token while it was away: nothing could be recorded.
  expect(load.answers.filter((a) => a.startedAt >= away && a.endedAt <= back && a.status === 200)).toEqual([]);
  await postgres.resume();
  const resumed = Date.now();
  // By itself: nobody restarts or tells the server.
  await waitFor(() => load.after(resumed).some((a) => a.status === 200), 'a token after PostgreSQL is back', 15_000);
  await waitFor(async () => (await readiness()).status === 200, '/readyz to say ready again', 15_000);
  return { away, back };
}

describe('PostgreSQL stopped mid-load', () => {
  it('answers 200 or 503, never 500; is not ready while it is away; recovers by itself; records every token it gave; puts every event on JetStream once', async () => {
    const consents = [await atConsent(), await atConsent()];
    const load = tokenLoad(4);
    await waitFor(() => load.answers.filter((a) => a.status === 200).length >= 20, 'tokens before the outage', 10_000);
    // A crash (killed mid-work, recovered at the start) and then a clean shutdown.
    const crash = await outage(load, 'immediate', consents[0]);
    const between = Date.now();
    await waitFor(() => load.after(between).filter((a) => a.status === 200).length >= 20, 'tokens between the outages', 10_000);
    const shutdown = await outage(load, 'fast', consents[1]);
    const after = Date.now();
    await waitFor(() => load.after(after).filter((a) => a.status === 200).length >= 20, 'tokens after the outages', 10_000);
    await load.stop();
    // Followers are woken by LISTEN/NOTIFY again after the last outage, not only by their poll.
    const lastLost = system.logLines.map((line) => line.includes('lost the PostgreSQL connection that hears of appends')).lastIndexOf(true);
    expect(lastLost).toBeGreaterThan(-1);
    await waitFor(() => system.logLines.slice(lastLost).some((line) => line.includes('listening for appends on PostgreSQL again')), 'the LISTEN connection to come back', 5000);

    // Every request was answered, 200 or 503 temporarily_unavailable, and in bounded time.
    const { answers } = load;
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    const refused = answers.filter((a) => a.status === 503);
    for (const window of [crash, shutdown]) expect(refused.some((a) => a.startedAt >= window.away && a.endedAt <= window.back)).toBe(true);
    for (const answer of refused) expect(answer).toMatchObject({ error: 'temporarily_unavailable', cacheControl: 'no-store', retryAfter: expect.stringMatching(/^\d+$/) });
    expect(answers.filter((a) => a.endedAt - a.startedAt > ANSWERED_WITHIN_MS)).toEqual([]);
    // The browser steps refused while it was away go through once it is back.
    for (const { browser, fields } of consents) {
      const approved = await browser.postForm(`${system.config.issuer}/consent`, { ...fields, decision: 'approve' });
      expect(location(approved, system.config.issuer).searchParams.get('code')).toBeTruthy();
    }

    // Fail closed: every token a client holds is on record. An event without a token may
    // exist only where PostgreSQL went away after COMMIT was sent (the caller got 503, the
    // store cannot know whether it committed): the store logs those events' ids.
    const issued = await postgres.query<{ id: string; jti: string }>('oauth', "SELECT id, data->>'jti' AS jti FROM events WHERE type = 'AccessTokenIssued' AND data->>'clientId' = 'machine'");
    const onRecord = new Set(issued.map((row) => row.jti));
    const given = answers.filter((a) => a.status === 200).map((a) => a.jti!);
    expect(new Set(given).size).toBe(given.length);
    expect(given.filter((jti) => !onRecord.has(jti))).toEqual([]);
    const uncertain = new Set(
      system.logLines
        .filter((line) => line.includes('lost PostgreSQL while committing'))
        .flatMap((line) => (JSON.parse(line) as { eventIds: string[] }).eventIds),
    );
    const givenSet = new Set(given);
    expect(issued.filter((row) => !givenSet.has(row.jti) && !uncertain.has(row.id))).toEqual([]);
    // No 500 was logged either.
    expect(system.logLines.filter((line) => line.includes('"request failed"'))).toEqual([]);

    // JetStream holds the record, each event once: the relay resumed where it was.
    const table = await postgres.query<{ id: string }>('oauth', 'SELECT id FROM events ORDER BY position');
    await waitFor(async () => system.as.relay.publishedPosition >= table.length, 'the relay to publish the whole record', 15_000);
    const published = await idsOnJetStream(nats.url, 'outage-check', table.length);
    expect(published).toHaveLength(table.length);
    expect(new Set(published)).toEqual(new Set(table.map((row) => row.id)));
  }, 120_000);
});

/**
 * A TCP hop between the store and PostgreSQL that can fail the way networks do, at the worst
 * moment: `cutAfter` closes the store's side just after it sent the next statement matching
 * (PostgreSQL still gets it, and runs it); `hang` stops carrying anything, as a server that
 * froze or a cable pulled (no socket error ever comes).
 */
async function faultyHop(targetPort: number) {
  let cut: RegExp | undefined;
  let hanging = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    // What PostgreSQL got before the store's side went is still run: only then does it read the end.
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.destroy());
    upstream.on('data', (chunk: Buffer) => void (hanging || client.write(chunk)));
    let pending = Buffer.alloc(0);
    let startedUp = false;
    client.on('data', (chunk: Buffer) => {
      if (hanging) return;
      pending = Buffer.concat([pending, chunk]);
      // Frontend messages: the start-up one is a length and a body, every later one a type byte, a length and a body.
      for (;;) {
        const header = startedUp ? 1 : 0;
        if (pending.length < header + 4) return;
        const size = header + pending.readInt32BE(header);
        if (pending.length < size) return;
        const message = pending.subarray(0, size);
        pending = pending.subarray(size);
        upstream.write(message);
        startedUp = true;
        // Q (a simple query) holds its text; P (parse) its statement's name, then its text.
        const text = message.toString('utf8', 5);
        const statement = message[0] === 0x50 ? text.slice(text.indexOf('\0') + 1) : message[0] === 0x51 ? text : undefined;
        if (cut && statement !== undefined && cut.test(statement)) {
          cut = undefined;
          client.destroy();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    cutAfter(statement: RegExp) {
      cut = statement;
    },
    hang() {
      hanging = true;
    },
    /** Carries again, on new connections (the store drops those that hung). */
    answer() {
      hanging = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the PostgreSQL event store when its connection fails mid-append', () => {
  const lines: string[] = [];
  const uncertainIds = () =>
    lines.filter((line) => line.includes('lost PostgreSQL while committing')).flatMap((line) => (JSON.parse(line) as { eventIds: string[] }).eventIds);
  const ids = async (database: string) => new Set((await postgres.query<{ id: string }>(database, 'SELECT id FROM events')).map((row) => row.id));

  it('refuses every append of the group; before COMMIT none is recorded, after COMMIT was sent they may be, and their ids are logged', async () => {
    const url = await postgres.createDatabase('cut');
    const hop = await faultyHop(Number(new URL(url).port));
    const store = new PostgresEventStore(url.replace(/:\d+\//, `:${hop.port}/`), { log: memoryLogger(lines) });
    try {
      await store.append(uniqueStream(), [anEvent('First')], 'no_stream');
      const group = (type: string) => Array.from({ length: 3 }, () => ({ stream: uniqueStream(), events: [anEvent(type), anEvent(type)] }));
      const appendAll = (appends: ReturnType<typeof group>) => Promise.allSettled(appends.map(({ stream, events }) => store.append(stream, events, 'no_stream')));
      const eventIds = (appends: ReturnType<typeof group>) => appends.flatMap(({ events }) => events.map((event) => event.id));

      // Gone while inserting: rolled back by the server, refused to every caller, not tried again.
      hop.cutAfter(/^\s*WITH inserted AS/);
      const beforeCommit = group('BeforeCommit');
      for (const outcome of await appendAll(beforeCommit)) expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) });
      expect([...(await ids('cut'))].filter((id) => eventIds(beforeCommit).includes(id))).toEqual([]);
      expect(uncertainIds()).toEqual([]);

      // Gone once COMMIT was on its way: PostgreSQL committed, the callers hear "unavailable",
      // never "written", and the log names the events that may be on record all the same.
      hop.cutAfter(/^COMMIT/);
      const atCommit = group('AtCommit');
      for (const outcome of await appendAll(atCommit)) expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) });
      await waitFor(async () => {
        const recorded = await ids('cut');
        return eventIds(atCommit).every((id) => recorded.has(id));
      }, 'the commit PostgreSQL ran although its answer was lost');
      expect(uncertainIds().sort()).toEqual(eventIds(atCommit).sort());

      // The next append goes through on a fresh connection, and positions stay dense.
      await store.append(uniqueStream(), [anEvent('After')], 'no_stream');
      const all = await store.readAll(0, 100);
      expect(all.map((event) => event.type)).toEqual(['First', ...Array<string>(6).fill('AtCommit'), 'After']);
      expect(all.map((event) => event.position)).toEqual(all.map((_, i) => i + 1));
    } finally {
      await store.close();
      await hop.close();
    }
  });

  it('fails within its timeouts with StoreUnavailableError when the server stops answering, and appends again once it answers', async () => {
    const url = await postgres.createDatabase('frozen');
    const hop = await faultyHop(Number(new URL(url).port));
    const store = new PostgresEventStore(url.replace(/:\d+\//, `:${hop.port}/`), { connectTimeoutMs: 500, statementTimeoutMs: 500, log: memoryLogger(lines) });
    try {
      await store.append(uniqueStream(), [anEvent()], 'no_stream');
      hop.hang();
      const started = Date.now();
      const outcomes = await Promise.allSettled([store.append(uniqueStream(), [anEvent('Frozen')], 'no_stream'), store.checkWritable(), store.headPosition(), store.readAll(0, 10)]);
      for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) });
      // The query's own timeout (statement + 1 s), not forever.
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await ids('frozen')).toHaveProperty('size', 1);
      hop.answer();
      await store.append(uniqueStream(), [anEvent('Thawed')], 'no_stream');
      expect((await store.readAll(0, 10)).map((event) => event.position)).toEqual([1, 2]);
    } finally {
      await store.close();
      await hop.close();
    }
  });
});
