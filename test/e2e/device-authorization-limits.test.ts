import * as oauth from 'oauth4webapi';
import { DEVICE_REQUEST_LIMIT, USER_CODE_FAILURE_LIMIT } from '../../src/credentials/device-limits.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../src/domain/events/event-schema.js';
import { alice, expectRefusal, insecure, post, sleep, startDeviceSystem, tv } from '../support/device-flow.js';
import type { TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

/**
 * The device authorization grant (RFC 8628) at its limits: a device code that expired, user
 * codes that are wrong or guessed at, too many device requests from one address, and
 * sign-in sessions turned off. The flow itself: device-authorization.test.ts.
 */

/** Every device code and user code handed out, to look for in the store at the end. */
const handedOut: string[] = [];

describe('the device authorization grant: expiry, wrong codes and guessing (RFC 8628 sections 3.5 and 5.1)', () => {
  const dir = tempDir();
  let system: TestSystem;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    ({ system, as } = await startDeviceSystem(dir.path, { DEVICE_CODE_TTL: '1', DEVICE_CODE_INTERVAL: '1' }));
  });
  afterAll(async () => {
    await system.close();
    dir.remove();
  });

  /** The verification page's code form, submitted from a browser stand-in: the status and the message shown. */
  const enterCode = async (agent: UserAgent, userCode: string) => {
    const form = hiddenFields(await (await agent.get(`${system.config.issuer}/device`)).text());
    const answer = await agent.postForm(`${system.config.issuer}/device`, { ...form, user_code: userCode });
    const page = await answer.text();
    return { status: answer.status, message: /<p class="error" role="alert">([^<]*)<\/p>/.exec(page)?.[1], answer };
  };

  it('answers expired_token once the device code expired, and the page says of an expired code what it says of one never issued', async () => {
    const codes = await oauth.processDeviceAuthorizationResponse(as, tv, await oauth.deviceAuthorizationRequest(as, tv, oauth.None(), {}, insecure));
    handedOut.push(codes.device_code, codes.user_code, codes.user_code.replace('-', ''));
    expect(codes.expires_in).toBe(1);
    const agent = new UserAgent();
    // Still good: the code form sends the browser on to sign in.
    const good = await enterCode(agent, codes.user_code);
    expect(good.status).toBe(303);
    expect(location(good.answer, system.config.issuer).pathname).toBe('/login');
    await sleep(1100);
    const token = await post(`${system.config.issuer}/token`, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: codes.device_code, client_id: 'tv' });
    expectRefusal(token, 'expired_token');
    const expired = await enterCode(agent, codes.user_code);
    const unknown = await enterCode(agent, codes.user_code === 'BCDF-GHJK' ? 'BCDF-GHJL' : 'BCDF-GHJK');
    const malformed = await enterCode(agent, 'not a code');
    expect(expired).toMatchObject({ status: 400, message: expect.stringContaining('not valid') });
    expect([unknown.status, unknown.message]).toEqual([expired.status, expired.message]);
    expect([malformed.status, malformed.message]).toEqual([expired.status, expired.message]);
    // An expired code's login link is no good either.
    expect((await agent.get(location(good.answer, system.config.issuer).href)).status).toBe(400);
  });

  it(`refuses an address after ${USER_CODE_FAILURE_LIMIT} wrong codes within fifteen minutes, with Retry-After`, async () => {
    const agent = new UserAgent();
    let attempts = 0;
    let answer = await enterCode(agent, 'BCDF-GHJK');
    while (answer.status === 400 && attempts++ < USER_CODE_FAILURE_LIMIT + 1) answer = await enterCode(agent, 'BCDF-GHJK');
    expect(answer.status).toBe(429);
    expect(Number(answer.answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(answer.message).toContain('Too many wrong codes');
    // Even a good code is refused meanwhile: a refused guess is not checked.
    const codes = await oauth.processDeviceAuthorizationResponse(as, tv, await oauth.deviceAuthorizationRequest(as, tv, oauth.None(), {}, insecure));
    handedOut.push(codes.device_code, codes.user_code, codes.user_code.replace('-', ''));
    expect((await enterCode(agent, codes.user_code)).status).toBe(429);
  });

  it(`takes at most ${DEVICE_REQUEST_LIMIT} device authorization requests from one address in ten minutes (each is recorded)`, async () => {
    let answer;
    let requests = 0;
    do {
      answer = await post(`${system.config.issuer}/device_authorization`, { client_id: 'tv' });
      if (answer.status === 200) handedOut.push(String(answer.body.device_code), String(answer.body.user_code));
    } while (answer.status === 200 && ++requests <= DEVICE_REQUEST_LIMIT);
    expect(requests).toBeLessThanOrEqual(DEVICE_REQUEST_LIMIT);
    const head = await system.as.store.headPosition();
    const refused = await fetch(`${system.config.issuer}/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=tv' });
    expect([refused.status, ((await refused.json()) as { error: string }).error, refused.headers.get('cache-control')]).toEqual([429, 'temporarily_unavailable', 'no-store']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await system.as.store.headPosition()).toBe(head);
  });

  it('keeps no device code and no user code in clear in any event', async () => {
    const events = JSON.stringify(await system.as.store.readAll(0, 100_000));
    expect(events).toContain('DeviceAuthorizationRequested');
    expect(handedOut.length).toBeGreaterThan(6);
    for (const secret of handedOut) expect(events).not.toContain(secret);
  });
});

describe('the device authorization grant with sign-in sessions turned off (SIGN_IN_SESSION_TTL=0)', () => {
  const dir = tempDir();
  let system: TestSystem;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    ({ system, as } = await startDeviceSystem(dir.path, { SIGN_IN_SESSION_TTL: '0', DEVICE_CODE_INTERVAL: '1' }));
  });
  afterAll(async () => {
    await system.close();
    dir.remove();
  });

  it('asks for the password for each device, carries who signed in to the approval, and gives the tokens', async () => {
    const { issuer } = system.config;
    const person = new UserAgent();
    for (const round of [1, 2]) {
      const codes = await oauth.processDeviceAuthorizationResponse(as, tv, await oauth.deviceAuthorizationRequest(as, tv, oauth.None(), { scope: 'openid' }, insecure));
      const codeForm = hiddenFields(await (await person.get(`${issuer}/device`)).text());
      const login = location(await person.postForm(`${issuer}/device`, { ...codeForm, user_code: codes.user_code }), issuer);
      // No sign-in session stands in: the password, every time.
      expect([round, login.pathname]).toEqual([round, '/login']);
      const loginForm = hiddenFields(await (await person.get(login.href)).text());
      const approval = location(await person.postForm(`${issuer}/login`, { ...loginForm, ...alice }), issuer);
      const approvalForm = hiddenFields(await (await person.get(approval.href)).text());
      expect((await person.postForm(`${issuer}/device/approve`, { ...approvalForm, decision: 'approve' })).status).toBe(200);
      const tokens = await oauth.processDeviceCodeResponse(as, tv, await oauth.deviceCodeGrantRequest(as, tv, oauth.None(), codes.device_code, insecure));
      expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ aud: 'tv', acr: '1' });
      expect(oauth.getValidatedIdTokenClaims(tokens)!.sid).toBeUndefined();
    }
  });
});
