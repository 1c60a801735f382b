import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDemoClientApp } from '../../src/demo-client/app.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { DEMO_USER, seedDemo } from '../../src/system/demo-seed.js';
import { listen } from '../../src/system/listen.js';
import { freePort } from '../support/free-port.js';
import { startSystem, type TestSystem } from '../support/system.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED: the real-browser tests. ${CHROMIUM} is missing (apt-get install -y chromium).`);
const maybe = hasChromium ? it : it.skip;
const skipped = hasChromium ? '' : ' (SKIPPED: no chromium)';

describe(`a person in a real browser (Chromium)${skipped}`, () => {
  const dir = tempDir();
  let system: TestSystem;
  let demo: Awaited<ReturnType<typeof listen>>;
  let demoUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!hasChromium) return;
    const demoPort = await freePort();
    demoUrl = `http://127.0.0.1:${demoPort}`;
    system = await startSystem(dir.path, { env: { DEMO_PORT: String(demoPort), BACKCHANNEL_LOGOUT_INTERVAL_MS: '50' } });
    const seed = await seedDemo(system.as, system.config);
    demo = await listen(
      createDemoClientApp({
        issuer: system.config.issuer,
        resourceServerUrl: system.config.resourceServerUrl,
        clientId: seed.webClient.clientId,
        clientSecret: seed.webClient.clientSecret,
        redirectUri: seed.webClient.redirectUri,
        scope: seed.webClient.scope,
      }),
      '127.0.0.1',
      demoPort,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);
  afterAll(async () => {
    if (!hasChromium) return;
    await browser?.close();
    await demo?.close();
    await system?.close();
    dir.remove();
  });

  /** The person signs in through the demo client with the password and allows it. */
  async function signInThroughDemo(page: Page): Promise<void> {
    await page.goto(demoUrl);
    await page.click('#signin');
    await page.waitForURL(/\/login\?request=/);
    await page.fill('#username', DEMO_USER.username);
    await page.fill('#password', DEMO_USER.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/consent\?request=/);
    await page.click('button[value=approve]');
    await page.waitForURL(`${demoUrl}/callback**`);
  }

  maybe('signs in, consents, and sees the resources the demo client fetched', async () => {
    const page = await browser.newPage();
    await page.goto(demoUrl);
    await page.click('#signin');
    await page.waitForURL(/\/login\?request=/);
    await page.fill('#username', DEMO_USER.username);
    await page.fill('#password', DEMO_USER.password);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/consent\?request=/);
    expect(await page.textContent('h1')).toContain('Demo web app');
    expect(await page.textContent('ul.scopes')).toContain('items:read');
    await page.click('button[value=approve]');
    await page.waitForURL(`${demoUrl}/callback**`);
    const profile = JSON.parse((await page.textContent('#profile'))!);
    expect(profile).toMatchObject({ username: 'alice', name: DEMO_USER.name });
    expect(await page.textContent('#items')).toContain('Welcome, alice');
    // An OpenID relying party: the ID token's claims and UserInfo beside the seven steps.
    const idClaims = JSON.parse((await page.textContent('#id-token-claims'))!);
    expect(idClaims).toMatchObject({ iss: system.config.issuer, aud: 'demo-web', sub: profile.sub, sid: expect.any(String) });
    expect(JSON.parse((await page.textContent('#userinfo'))!)).toMatchObject({ sub: profile.sub, name: DEMO_USER.name, preferred_username: 'alice' });
    await page.screenshot({ path: `${dir.path}/signed-in.png` });
    // Signing out from the demo: RP-initiated logout with its ID token, straight back to the demo.
    await page.click('#signout');
    await page.waitForURL(`${demoUrl}/**`);
    expect(await page.locator('#signin').count()).toBe(1);
    await page.click('#signin');
    await page.waitForURL(/\/login\?request=/);
    await page.close();
  });

  maybe('hears from the authorization server when the person signs out there (back-channel logout), and says so', async () => {
    const page = await browser.newPage();
    await signInThroughDemo(page);
    await page.goto(demoUrl);
    expect(await page.textContent('#signed-in-as')).toContain(DEMO_USER.name);
    // Signed out at the authorization server, not at the demo.
    await page.goto(`${system.config.issuer}/logout`);
    await page.click('button[type=submit]');
    expect(await page.textContent('h1')).toBe('You are signed out');
    const deadline = Date.now() + 5000;
    let told = false;
    while (!told && Date.now() < deadline) {
      await page.goto(demoUrl);
      told = (await page.locator('#signed-out-elsewhere').count()) === 1;
      if (!told) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(told).toBe(true);
    await page.screenshot({ path: `${dir.path}/signed-out-elsewhere.png` });
    // Said once: the demo's own session is over.
    await page.goto(demoUrl);
    expect(await page.locator('#signed-in-as').count()).toBe(0);
    await page.close();
  });

  maybe('asks before an untrusted logout request signs the person out (OpenID Connect RP-Initiated Logout), and signs out when they say so', async () => {
    const page = await browser.newPage();
    // Signed in first, through the demo client.
    await signInThroughDemo(page);
    // A logout request with no id_token_hint: the person is asked, and "Stay signed in" keeps them signed in.
    await page.goto(`${system.config.issuer}/end_session?client_id=demo-web`);
    expect(await page.textContent('h1')).toBe('Sign out?');
    expect(await page.textContent('p')).toContain('Demo web app');
    await page.screenshot({ path: `${dir.path}/end-session.png` });
    await page.click('button[value=no]');
    expect(await page.textContent('h1')).toBe('You are still signed in');
    await page.goto(`${system.config.issuer}/end_session?client_id=demo-web`);
    await page.click('button[value=yes]');
    expect(await page.textContent('h1')).toBe('You are signed out');
    // The next sign-in asks for the password again.
    await page.goto(demoUrl);
    await page.click('#signin');
    await page.waitForURL(/\/login\?request=/);
    await page.close();
  });

  maybe('denies, and the client shows access_denied', async () => {
    const page = await browser.newPage();
    await page.goto(demoUrl);
    await page.click('#signin');
    await page.fill('#username', DEMO_USER.username);
    await page.fill('#password', DEMO_USER.password);
    await page.click('button[type=submit]');
    await page.click('button[value=deny]');
    await page.waitForURL(`${demoUrl}/callback**`);
    expect(await page.textContent('#error')).toContain('access_denied');
    await page.close();
  });

  maybe('refuses to render the login page inside a frame', async () => {
    const page = await browser.newPage();
    await page.goto(demoUrl);
    await page.click('#signin');
    await page.waitForURL(/\/login\?request=/);
    const loginUrl = page.url();
    // A framing page of another origin on the same site (so the session cookie still goes
    // along) and with no policy of its own: only the login page's headers can stop it.
    const framer = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><iframe id="f" src="${loginUrl}" width="400" height="400"></iframe>`);
    });
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve));
    try {
      await page.goto(`http://127.0.0.1:${(framer.address() as AddressInfo).port}/`);
      await page.waitForTimeout(500);
      const frame = page.frames().find((f) => f !== page.mainFrame())!;
      expect(frame).toBeDefined();
      expect(await frame.locator('input[name=password]').count()).toBe(0);
    } finally {
      framer.close();
    }
    // The same page opened at the top level renders its form: the frame is what was refused.
    await page.goto(loginUrl);
    expect(await page.locator('input[name=password]').count()).toBe(1);
    await page.close();
  });
});
