import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tempDir } from '../../src/dev/temp-dir.js';
import { startSystem, type TestSystem } from '../support/system.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED: the single-page app tests. ${CHROMIUM} is missing (apt-get install -y chromium).`);
const maybe = hasChromium ? it : it.skip;
const skipped = hasChromium ? '' : ' (SKIPPED: no chromium)';

/** oauth4webapi as a browser loads it: one ES module, no dependencies. */
const OAUTH4WEBAPI = readFileSync(createRequire(import.meta.url).resolve('oauth4webapi'), 'utf8');

/**
 * A public client living in the page, on its own origin: discovery, the authorization
 * request with PKCE, the code exchanged by fetch from the page, the resource called with
 * the token, then the token revoked and the resource called again.
 */
const spaPage = (issuer: string, resourceServer: string) => `<!doctype html><meta charset="utf-8"><title>SPA</title><script type="module">
import * as oauth from '/oauth4webapi.js';
const insecure = { [oauth.allowInsecureRequests]: true };
const client = { client_id: 'spa' };
const redirectUri = location.origin + '/cb';
const as = await oauth.processDiscoveryResponse(new URL(${JSON.stringify(issuer)}), await oauth.discoveryRequest(new URL(${JSON.stringify(issuer)}), { ...insecure, algorithm: 'oauth2' }));
if (location.pathname === '/') {
  const verifier = oauth.generateRandomCodeVerifier();
  sessionStorage.setItem('verifier', verifier);
  const url = new URL(as.authorization_endpoint);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'spa', redirect_uri: redirectUri, scope: 'profile', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) url.searchParams.set(k, v);
  location.assign(url);
} else {
  const result = {};
  try {
    const params = oauth.validateAuthResponse(as, client, new URL(location.href), oauth.expectNoState);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, sessionStorage.getItem('verifier'), insecure));
    result.scope = tokens.scope;
    const call = () => fetch(${JSON.stringify(resourceServer)} + '/api/profile', { headers: { authorization: 'Bearer ' + tokens.access_token } });
    result.profile = await (await call()).json();
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), tokens.access_token, insecure));
    for (let i = 0; i < 50; i++) {
      const after = await call();
      if (after.status === 401) { result.afterRevocation = { status: 401, challenge: after.headers.get('www-authenticate') }; break; }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    result.error = String(error);
  }
  // A public client that sends a secret fails client authentication: the page can read why.
  try {
    const failed = await fetch(as.token_endpoint, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'spa', client_secret: 'not a public client thing' }) });
    result.failedAuthentication = { status: failed.status, body: await failed.json() };
  } catch (error) {
    result.failedAuthentication = String(error);
  }
  document.body.dataset.result = JSON.stringify(result);
}
</script>`;

/** A page of an origin no client registered: it may read the metadata, never a token answer. */
const strangerPage = (issuer: string) => `<!doctype html><meta charset="utf-8"><title>Stranger</title><script type="module">
const result = {};
result.metadata = (await (await fetch(${JSON.stringify(issuer)} + '/.well-known/oauth-authorization-server')).json()).issuer;
try {
  await fetch(${JSON.stringify(issuer)} + '/token', { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'spa', code: 'x.y', code_verifier: 'z'.repeat(43) }) });
  result.token = 'readable';
} catch (error) {
  result.token = 'blocked';
}
try {
  await fetch(${JSON.stringify(issuer)} + '/token', { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'spa', client_secret: 'guess' }) });
  result.failedAuthentication = 'readable';
} catch (error) {
  result.failedAuthentication = 'blocked';
}
document.body.dataset.result = JSON.stringify(result);
</script>`;

async function serve(page: (path: string) => string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/oauth4webapi.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(OAUTH4WEBAPI);
      return;
    }
    res.setHeader('content-type', 'text/html');
    res.end(page(req.url ?? '/'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** What the page's script wrote into body[data-result] when it was done. */
async function resultOf(page: Page): Promise<Record<string, unknown>> {
  await page.waitForSelector('body[data-result]', { state: 'attached' });
  return JSON.parse((await page.getAttribute('body', 'data-result'))!);
}

describe(`a single-page app, in a real browser (Chromium), on an origin of its own${skipped}`, () => {
  const dir = tempDir();
  let system: TestSystem;
  let browser: Browser;
  const servers: Server[] = [];
  afterAll(async () => {
    if (!hasChromium) return;
    await browser?.close();
    for (const server of servers) server.close();
    await system?.close();
    dir.remove();
  });

  maybe('signs the user in, exchanges the code and calls the API from the page, then revokes the token', async () => {
    system = await startSystem(dir.path);
    const { issuer, resourceServerUrl } = system.config;
    const spa = await serve(() => spaPage(issuer, resourceServerUrl));
    const stranger = await serve(() => strangerPage(issuer));
    servers.push(spa.server, stranger.server);
    await system.as.admin.registerUser({ username: 'alice', password: 'correct horse battery', name: 'Alice' });
    await system.as.admin.registerClient({ clientId: 'spa', name: 'Single-page app', clientType: 'public', redirectUris: [`${spa.url}/cb`], scopes: ['profile'] });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });

    const page = await browser.newPage();
    await page.goto(spa.url);
    await page.waitForURL(/\/login\?request=/);
    await page.fill('#username', 'alice');
    await page.fill('#password', 'correct horse battery');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/consent\?request=/);
    await page.click('button[value=approve]');
    await page.waitForURL(`${spa.url}/cb**`);
    const result = await resultOf(page);
    expect(result).toEqual({
      scope: 'profile',
      profile: expect.objectContaining({ username: 'alice', name: 'Alice' }),
      afterRevocation: { status: 401, challenge: expect.stringContaining('error="invalid_token"') },
      failedAuthentication: { status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' } },
    });

    const other = await browser.newPage();
    await other.goto(stranger.url);
    const seen = await resultOf(other);
    expect(seen).toEqual({ metadata: issuer, token: 'blocked', failedAuthentication: 'blocked' });
  }, 60_000);
});
