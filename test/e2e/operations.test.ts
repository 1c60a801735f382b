import { createHash } from 'node:crypto';
import { tempDir } from '../../src/dev/temp-dir.js';
import { loadConfig } from '../../src/config/config.js';
import type { EventHandler } from '../../src/event-bus/event-bus.js';
import { InProcessEventBus } from '../../src/event-bus/in-process-event-bus.js';
import { startResourceServer } from '../../src/system/resource-server.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait-for.js';
import { createAdminApp } from '../../src/observability/admin-server.js';
import { listen } from '../../src/system/listen.js';
import { runCodeFlow, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import { memoryLogger, registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

const alice = { username: 'alice', password: 'correct horse battery' };
const dir = tempDir();
let system: TestSystem;
let web: FlowClient;

beforeAll(async () => {
  system = await startSystem(dir.path);
  await system.as.admin.registerUser({ ...alice, name: 'Alice' });
  web = await registerWebClient(system);
  await system.as.readSide.waitFor(await system.as.store.headPosition());
});
afterAll(async () => {
  await system.close();
  dir.remove();
});

describe('health', () => {
  it('answers /healthz and /readyz on both servers, with what was checked', async () => {
    for (const base of [system.config.issuer, system.config.resourceServerUrl]) {
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { status: string; checks: Record<string, unknown> };
      expect(body.status).toBe('ready');
      expect(Object.values(body.checks).every((c) => c === true)).toBe(true);
    }
    const asChecks = ((await (await fetch(`${system.config.issuer}/readyz`)).json()) as { checks: Record<string, unknown> }).checks;
    expect(Object.keys(asChecks).sort()).toEqual(['eventStore', 'projections']);
  });
});

describe('resource server readiness at start', () => {
  it('stays not ready until its projections have caught up with the bus', async () => {
    // A real in-process bus whose consumer is held back until the test lets it go.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class HeldBus extends InProcessEventBus {
      override consume(name: string, filter: string, handler: EventHandler) {
        return super.consume(name, filter, async (event) => {
          await gate;
          await handler(event);
        });
      }
    }
    const bus = new HeldBus();
    await bus.publish(await system.as.store.readAll(0, 10_000));
    const rsDir = tempDir();
    const rs = await startResourceServer(loadConfig({ DATA_DIR: rsDir.path, RS_PORT: String(await freePort()), SERVICES: 'resource-server,authorization-server' }), { bus, logger: memoryLogger([]) });
    try {
      const first = await fetch(`${rs.url}/readyz`);
      expect(first.status).toBe(503);
      expect(((await first.json()) as { checks: { projections: string } }).checks.projections).toMatch(/events behind the bus/);
      release();
      await waitFor(async () => (await fetch(`${rs.url}/readyz`)).status === 200, 'readiness');
    } finally {
      await rs.close();
      await bus.close();
      rsDir.remove();
    }
  });
});

describe('metrics on the admin port', () => {
  it('counts requests by route and status, tokens, revocations, login failures, appends, conflicts, and lags', async () => {
    const { tokens } = await runCodeFlow(system.config.issuer, web, alice, 'profile');
    await fetch(`${system.config.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${web.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: tokens.refresh_token! }),
    });
    // A failed sign-in.
    const browser = new UserAgent();
    const verifier = 'v'.repeat(43);
    const authorize = `${system.config.issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'web', redirect_uri: web.redirectUri, code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' })}`;
    const page = await (await browser.get(location(await browser.get(authorize), system.config.issuer).toString())).text();
    await browser.postForm(`${system.config.issuer}/login`, { ...hiddenFields(page), username: 'alice', password: 'wrong one' });
    // An append that loses a race (its expected revision no longer holds) counts as a conflict.
    await expect(system.as.ports.store.append('race-1', [{ id: 'r1', type: 'Raced', data: {}, schemaVersion: 1, time: new Date().toISOString(), correlationId: 'c', causationId: null }], 3)).rejects.toThrow();
    // Twenty redemptions of one code: one token, and the replay revokes the grant.
    const code = (await signInAndDecide(new UserAgent(), system.config.issuer, new URL(authorize), alice)).searchParams.get('code')!;
    await Promise.all(Array.from({ length: 20 }, () => fetch(`${system.config.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${web.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: web.redirectUri }),
    })));

    const admin = await listen(createAdminApp(system.as.metrics), '127.0.0.1', 0);
    try {
      const text = await (await fetch(`http://127.0.0.1:${admin.port}/metrics`)).text();
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line ? Number(line.slice(series.length + 1)) : undefined;
      };
      expect(value('http_requests_total{server="authorization-server",route="/token",method="POST",status="200"}')).toBeGreaterThanOrEqual(2);
      expect(value('http_requests_total{server="authorization-server",route="/token",method="POST",status="400"}')).toBeGreaterThanOrEqual(1);
      expect(value('oauth_tokens_issued_total{grant_type="authorization_code"}')).toBe(2);
      expect(value('oauth_tokens_revoked_total{kind="grant",reason="refresh_token_revoked"}')).toBe(1);
      expect(value('oauth_tokens_revoked_total{kind="grant",reason="authorization_code_replay"}')).toBe(1);
      expect(value('oauth_login_failures_total{reason="bad_credentials"}')).toBe(1);
      expect(value('event_store_append_seconds_count')).toBeGreaterThan(10);
      expect(value('event_store_concurrency_conflicts_total')).toBeGreaterThan(0);
      expect(value('relay_lag_events{instance_role="relay"}')).toBeGreaterThanOrEqual(0);
      expect(value('projection_lag_events{server="authorization-server",projection="clients"}')).toBeGreaterThanOrEqual(0);
      expect(text).toContain('process_resident_memory_bytes');
      for (const secret of [tokens.access_token, tokens.refresh_token!, web.clientSecret!, code]) expect(text).not.toContain(secret);
    } finally {
      await admin.close();
    }
  });
});
