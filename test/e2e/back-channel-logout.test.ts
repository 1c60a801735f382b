import { createServer, type Server } from 'node:http';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { startNatsServer, type NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { signInAndDecide } from '../support/oauth-flow.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait-for.js';

/**
 * OpenID Connect Back-Channel Logout, driven by the record: a receiver that checks every
 * logout token strictly, one that fails first, one that never answers well, and an
 * authorization server restarted while a delivery is owed; embedded and over NATS.
 */
const alice = { username: 'alice', password: 'correct horse battery' };
const redirectUri = 'http://127.0.0.1:9/rp';
const env = { BACKCHANNEL_LOGOUT_INTERVAL_MS: '50', BACKCHANNEL_LOGOUT_RETRY_MS: '100', BACKCHANNEL_LOGOUT_ATTEMPTS: '3' };

/** A relying party's back-channel logout endpoint: answers each POST with the next status of its script (the last one repeats). */
class Receiver {
  readonly received: string[] = [];
  private server: Server | undefined;
  url = '';
  constructor(public script: number[]) {}
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        this.received.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.statusCode = this.script.length > 1 ? this.script.shift()! : this.script[0];
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}/backchannel`;
    return this;
  }
  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** Checks a logout token as Back-Channel Logout 1.0 section 2.6 tells a relying party to. */
async function validLogoutToken(issuer: string, token: string, clientId: string): Promise<JWTPayload> {
  const jwks = (await (await fetch(`${issuer}/jwks.json`)).json()) as JSONWebKeySet;
  expect(decodeProtectedHeader(token).typ).toBe('logout+jwt');
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer, audience: clientId, typ: 'logout+jwt', algorithms: ['RS256', 'ES256'], requiredClaims: ['iat', 'exp', 'jti'] });
  expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
  expect(payload.nonce).toBeUndefined();
  expect(typeof payload.sid === 'string' || typeof payload.sub === 'string').toBe(true);
  return payload;
}

describe.each(['embedded', 'nats'])('OpenID Connect Back-Channel Logout (%s)', (mode) => {
  const dir = tempDir();
  let nats: NatsServer | undefined;
  let system: TestSystem;
  const receivers = { flaky: new Receiver([500, 200]), down: new Receiver([503]) };

  const start = async () => startSystem(dir.path, { env, ...(nats ? { natsUrl: nats.url } : {}) });
  beforeAll(async () => {
    if (mode === 'nats') nats = await startNatsServer();
    await receivers.flaky.start();
    await receivers.down.start();
    system = await start();
    await system.as.admin.registerUser({ ...alice, name: 'Alice' });
    for (const [clientId, receiver] of [['flaky-rp', receivers.flaky], ['down-rp', receivers.down]] as const) {
      await system.as.admin.registerClient({ clientId, name: clientId, clientType: 'public', redirectUris: [redirectUri], scopes: ['openid'], backchannelLogoutUri: receiver.url, backchannelLogoutSessionRequired: true });
    }
    await system.as.admin.registerClient({ clientId: 'quiet-rp', name: 'quiet', clientType: 'public', redirectUris: [redirectUri], scopes: ['openid'] });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
  });
  afterAll(async () => {
    await system.close();
    await receivers.flaky.stop();
    await receivers.down.stop();
    await nats?.dispose();
    dir.remove();
  });

  /** A code flow with openid for this client in this browser (signed in already, or with the password). */
  async function idTokenFor(clientId: string, browser: UserAgent) {
    const config = await client.discovery(new URL(system.config.issuer), clientId, undefined, client.None(), { execute: [client.allowInsecureRequests] });
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256', state: 's' });
    const callback = browser.cookies.has('as_signin')
      ? await (async () => {
          const page = await browser.get(location(await browser.get(url.toString()), system.config.issuer).toString());
          return location(await browser.postForm(`${system.config.issuer}/consent`, { ...hiddenFields(await page.text()), decision: 'approve' }), system.config.issuer);
        })()
      : await signInAndDecide(browser, system.config.issuer, url, alice);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: 's', idTokenExpected: true });
    return tokens.claims()!;
  }
  const signOut = async (browser: UserAgent) => {
    const page = await browser.get(`${system.config.issuer}/logout`);
    expect((await browser.postForm(`${system.config.issuer}/logout`, hiddenFields(await page.text()))).status).toBe(200);
  };
  const outcomes = async (sid: string): Promise<Array<Record<string, unknown>>> => (await system.as.store.readStream(`logout-${sid}`)).map((e) => ({ type: e.type, ...e.data }));

  it('tells every client that got an ID token in the session, retrying one that fails first, giving up one that never answers well, and records each outcome', async () => {
    const browser = new UserAgent();
    const claims = await idTokenFor('flaky-rp', browser);
    await idTokenFor('down-rp', browser);
    await idTokenFor('quiet-rp', browser);
    const sid = claims.sid as string;
    const before = receivers.flaky.received.length;
    await signOut(browser);

    await waitFor(async () => (await outcomes(sid)).length === 2, 'both outcomes on record', 10_000);
    const recorded = await outcomes(sid);
    expect(recorded).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'BackChannelLogoutDelivered', clientId: 'flaky-rp', signInSessionId: sid, userId: claims.sub, attempts: 2 }),
      expect.objectContaining({ type: 'BackChannelLogoutFailed', clientId: 'down-rp', signInSessionId: sid, attempts: 3, lastError: 'HTTP 503' }),
    ]));
    // The flaky receiver was sent a token twice (refused, then taken); each checks out.
    const sent = receivers.flaky.received.slice(before);
    expect(sent).toHaveLength(2);
    for (const token of sent) expect(await validLogoutToken(system.config.issuer, token, 'flaky-rp')).toMatchObject({ sid, sub: claims.sub });
    const delivered = recorded.find((e) => e.type === 'BackChannelLogoutDelivered')!;
    expect(delivered.jti).toBe((await validLogoutToken(system.config.issuer, sent[1], 'flaky-rp')).jti);
    // Nothing secret on record: not the logout token.
    expect(JSON.stringify(recorded)).not.toContain(sent[1].split('.')[2]);
    // Nobody is told twice.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receivers.flaky.received.length - before).toBe(2);
    expect(await outcomes(sid)).toHaveLength(2);
  });

  it('owes a delivery across a restart of the authorization server, and makes it once', async () => {
    receivers.flaky.script = [503];
    const browser = new UserAgent();
    const claims = await idTokenFor('flaky-rp', browser);
    const sid = claims.sid as string;
    const before = receivers.flaky.received.length;
    await signOut(browser);
    await waitFor(async () => receivers.flaky.received.length > before, 'a first attempt');
    // Stopped while the receiver refuses: the delivery is still owed on record.
    expect(await outcomes(sid)).toEqual([]);
    await system.close();
    receivers.flaky.script = [200];
    system = await start();
    await waitFor(async () => (await outcomes(sid)).length === 1, 'the delivery after the restart', 10_000);
    expect(await outcomes(sid)).toEqual([expect.objectContaining({ type: 'BackChannelLogoutDelivered', clientId: 'flaky-rp' })]);
    await validLogoutToken(system.config.issuer, receivers.flaky.received.at(-1)!, 'flaky-rp');
  });

  it('is sent by one instance of several on the data directory', async () => {
    receivers.flaky.script = [200];
    // Instances of one deployment share the issuer.
    const second = await startSystem(dir.path, { env: { ...env, ISSUER: system.config.issuer }, ...(nats ? { natsUrl: nats.url } : {}) });
    try {
      const browser = new UserAgent();
      const claims = await idTokenFor('flaky-rp', browser);
      const sid = claims.sid as string;
      await signOut(browser);
      await waitFor(async () => (await outcomes(sid)).length === 1, 'the delivery', 10_000);
      // Both instances look every 50 ms; give the one without the lease the time to err.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const sent = [];
      const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}').sid;
      for (const token of receivers.flaky.received.filter((t) => sidOf(t) === sid)) sent.push(await validLogoutToken(system.config.issuer, token, 'flaky-rp'));
      expect(sent).toHaveLength(1);
      expect(await outcomes(sid)).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('says so in discovery', async () => {
    const metadata = (await (await fetch(`${system.config.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
  });
});
