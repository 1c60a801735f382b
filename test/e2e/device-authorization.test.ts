import { existsSync } from 'node:fs';
import * as oauth from 'oauth4webapi';
import { chromium, type Browser } from 'playwright-core';
import { tempDir } from '../../src/dev/temp-dir.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../src/domain/events/event-schema.js';
import { alice, expectRefusal, insecure, post, sleep, startDeviceSystem, tv, USER_CODE } from '../support/device-flow.js';
import type { TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

/**
 * The OAuth 2.0 Device Authorization Grant (RFC 8628) end to end: a strict client
 * (oauth4webapi) asks for a code and polls the token endpoint while a person approves the
 * code in Chromium on the verification page; then every refusal, one by one, each with the
 * RFC's error code, a 4xx and no-store. Expiry, guessing and limits: device-authorization-limits.test.ts.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`SKIPPED: the device flow in a real browser. ${CHROMIUM} is missing (apt-get install -y chromium).`);
const maybe = hasChromium ? it : it.skip;

/** Every device code and user code handed out, to look for in the store at the end. */
const handedOut: string[] = [];

describe('the device authorization grant (RFC 8628)', () => {
  const dir = tempDir();
  let system: TestSystem;
  let as: oauth.AuthorizationServer;
  let secrets: { printer: string; web: string };
  let browser: Browser | undefined;

  const requestCode = async (client = tv, auth: oauth.ClientAuth = oauth.None(), scope = 'openid profile') => {
    const codes = await oauth.processDeviceAuthorizationResponse(as, client, await oauth.deviceAuthorizationRequest(as, client, auth, { scope }, insecure));
    handedOut.push(codes.device_code, codes.user_code, codes.user_code.replace('-', ''));
    return codes;
  };
  const poll = (deviceCode: string) => post(`${system.config.issuer}/token`, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: deviceCode, client_id: 'tv' });

  beforeAll(async () => {
    ({ system, as, secrets } = await startDeviceSystem(dir.path, { DEVICE_CODE_INTERVAL: '1' }));
    if (hasChromium) {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
    }
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await system.close();
    dir.remove();
  });

  it('announces the device authorization endpoint and the grant in the metadata', () => {
    expect(as.device_authorization_endpoint).toBe(`${system.config.issuer}/device_authorization`);
    expect(as.grant_types_supported).toContain(DEVICE_CODE_GRANT_TYPE);
  });

  maybe('a strict client polls while a person signs in in Chromium, types the code and approves; the tokens reach the resource server', async () => {
    const raw = await oauth.deviceAuthorizationRequest(as, tv, oauth.None(), { scope: 'openid profile' }, insecure);
    expect(raw.headers.get('cache-control')).toBe('no-store');
    const codes = await oauth.processDeviceAuthorizationResponse(as, tv, raw);
    handedOut.push(codes.device_code, codes.user_code, codes.user_code.replace('-', ''));
    expect(codes.user_code).toMatch(USER_CODE);
    expect(codes).toMatchObject({ verification_uri: `${system.config.issuer}/device`, verification_uri_complete: `${system.config.issuer}/device?user_code=${codes.user_code}`, expires_in: 600, interval: 1 });

    // The device polls as oauth4webapi's users do, waiting the interval between polls.
    const pollUntilDecided = async () => {
      let interval = codes.interval!;
      let pending = 0;
      for (;;) {
        await sleep(interval * 1000);
        try {
          return { pending, tokens: await oauth.processDeviceCodeResponse(as, tv, await oauth.deviceCodeGrantRequest(as, tv, oauth.None(), codes.device_code, insecure)) };
        } catch (error) {
          if (!(error instanceof oauth.ResponseBodyError)) throw error;
          if (error.error === 'slow_down') interval += 5;
          else if (error.error === 'authorization_pending') pending++;
          else throw error;
        }
      }
    };
    // The person types the code in lower case without its dash: what they mean is taken.
    const approveInBrowser = async () => {
      const page = await browser!.newPage();
      await page.goto(codes.verification_uri);
      await page.fill('#user_code', codes.user_code.replace('-', ' ').toLowerCase());
      await page.click('button[type=submit]');
      await page.waitForURL(/\/login\?request=/);
      await page.fill('#username', alice.username);
      await page.fill('#password', alice.password);
      await page.click('button[type=submit]');
      await page.waitForURL(/\/device\/approve\?request=/);
      expect(await page.textContent('h1')).toContain('Living Room TV');
      expect(await page.textContent('ul.scopes')).toContain('profile');
      await page.click('button[value=approve]');
      expect(await page.textContent('#device-approved')).toBe('Done');
      return page;
    };
    const [{ pending, tokens }, page] = await Promise.all([pollUntilDecided(), approveInBrowser()]);
    expect(pending).toBeGreaterThan(0);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'openid profile', refresh_token: expect.any(String) });
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims).toMatchObject({ iss: system.config.issuer, aud: 'tv', acr: '1' });

    const rs = new URL(system.config.resourceServerUrl);
    rs.port = String(system.rs.port);
    await system.rs.projections.waitFor(await system.as.store.headPosition());
    const profile = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL('/api/profile', rs), undefined, undefined, insecure);
    expect(profile.status).toBe(200);
    expect(await profile.json()).toMatchObject({ sub: claims.sub, username: 'alice' });

    // A device code is redeemed once.
    expectRefusal(await poll(codes.device_code), 'invalid_grant');

    // Signed in now: the next device, from verification_uri_complete, needs no password; the person denies it.
    const next = await requestCode();
    await page.goto(next.verification_uri_complete!);
    expect(await page.inputValue('#user_code')).toBe(next.user_code);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/device\/approve\?request=/);
    await page.click('button[value=deny]');
    expect(await page.textContent('#device-denied')).toBe('Denied');
    expectRefusal(await poll(next.device_code), 'access_denied');
    await page.close();
  }, 60_000);

  it('takes the code form and the decision only from the browser they were made for (CSRF), and a decision once', async () => {
    const { issuer } = system.config;
    const codes = await requestCode();
    const person = new UserAgent();
    const stranger = new UserAgent();
    const codeForm = hiddenFields(await (await person.get(`${issuer}/device`)).text());
    expect((await stranger.postForm(`${issuer}/device`, { ...codeForm, user_code: codes.user_code })).status).toBe(400);
    const login = location(await person.postForm(`${issuer}/device`, { ...codeForm, user_code: codes.user_code }), issuer);
    const loginForm = hiddenFields(await (await person.get(login.href)).text());
    const approval = location(await person.postForm(`${issuer}/login`, { ...loginForm, ...alice }), issuer);
    expect(approval.pathname).toBe('/device/approve');
    const approvalForm = hiddenFields(await (await person.get(approval.href)).text());
    const head = await system.as.store.headPosition();
    // The link and the form in another browser, or the right browser without the form's token: refused, nothing recorded.
    expect((await stranger.get(approval.href)).status).toBe(400);
    expect((await stranger.postForm(`${issuer}/device/approve`, { ...approvalForm, decision: 'approve' })).status).toBe(400);
    expect((await person.postForm(`${issuer}/device/approve`, { request: approvalForm.request, csrf: 'x'.repeat(43), decision: 'approve' })).status).toBe(400);
    expect(await system.as.store.headPosition()).toBe(head);
    expectRefusal(await poll(codes.device_code), 'authorization_pending');
    expect((await person.postForm(`${issuer}/device/approve`, { ...approvalForm, decision: 'approve' })).status).toBe(200);
    // Decided: the same form again changes nothing.
    const after = await system.as.store.headPosition();
    expect((await person.postForm(`${issuer}/device/approve`, { ...approvalForm, decision: 'deny' })).status).toBe(400);
    expect(await system.as.store.headPosition()).toBe(after);
  });

  it('answers authorization_pending before the person decides, and slow_down (the interval five seconds longer) to a device polling too fast', async () => {
    const codes = await requestCode();
    expectRefusal(await poll(codes.device_code), 'authorization_pending');
    const tooSoon = await poll(codes.device_code);
    expectRefusal(tooSoon, 'slow_down');
    expect(tooSoon.body.error_description).toContain('6 seconds');
    await sleep(1100);
    // The interval is six seconds now: a second later is still too soon.
    expectRefusal(await poll(codes.device_code), 'slow_down');
  });

  it('refuses a client not registered for the grant, bad client authentication, and scopes beyond the client', async () => {
    const endpoint = `${system.config.issuer}/device_authorization`;
    const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
    expectRefusal(await post(endpoint, { client_id: 'web' }, basic('web', 'wrong')), 'invalid_client', 401);
    expectRefusal(await post(endpoint, { client_id: 'nobody' }), 'invalid_client', 401);
    expectRefusal(await post(endpoint, { client_id: 'printer' }), 'invalid_client', 401);
    expectRefusal(await post(endpoint, {}, basic('printer', 'wrong')), 'invalid_client', 401);
    expectRefusal(await post(endpoint, { scope: 'profile' }, basic('printer', `${secrets.printer}x`)), 'invalid_client', 401);
    expectRefusal(await post(endpoint, { scope: 'items:read' }, basic('printer', secrets.printer)), 'invalid_scope');
    expectRefusal(await post(endpoint, { scope: 'profile' }, basic('web', secrets.web)), 'unauthorized_client');
    // The confidential device authenticates with HTTP Basic, as at the token endpoint.
    const printer: oauth.Client = { client_id: 'printer' };
    const codes = await requestCode(printer, oauth.ClientSecretBasic(secrets.printer), 'profile');
    expect(codes.user_code).toMatch(USER_CODE);
    // At the token endpoint too: a client not registered for the grant, a client that fails to authenticate.
    expectRefusal(await post(`${system.config.issuer}/token`, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: codes.device_code }, basic('web', secrets.web)), 'unauthorized_client');
    expectRefusal(await post(`${system.config.issuer}/token`, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: codes.device_code }, basic('printer', 'wrong')), 'invalid_client', 401);
    expectRefusal(await post(`${system.config.issuer}/token`, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: 'not-a-device-code', client_id: 'tv' }), 'invalid_grant');
    expectRefusal(await post(`${system.config.issuer}/token`, { grant_type: DEVICE_CODE_GRANT_TYPE, client_id: 'tv' }), 'invalid_request');
    // Another client's device code is no good.
    expectRefusal(await poll(codes.device_code), 'invalid_grant');
  });

  it('keeps no device code and no user code in clear in any event', async () => {
    const events = JSON.stringify(await system.as.store.readAll(0, 100_000));
    expect(events).toContain('DeviceAuthorizationRequested');
    expect(handedOut.length).toBeGreaterThan(6);
    for (const secret of handedOut) expect(events).not.toContain(secret);
  });
});
