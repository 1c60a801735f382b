import { tempDir } from '../../src/dev/temp-dir.js';
import { authorizationUrl, discover, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import { registerWebClient, startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';

const alice = { username: 'alice', password: 'correct horse battery' };

describe('sign-in sessions turned off (SIGN_IN_SESSION_TTL=0)', () => {
  const dir = tempDir();
  let system: TestSystem;
  let client: FlowClient;
  /** The sign-in cookie a browser got while sessions were still on. */
  let earlierCookie: string;

  beforeAll(async () => {
    const before = await startSystem(dir.path);
    await before.as.admin.registerUser({ ...alice, name: 'Alice' });
    client = await registerWebClient(before);
    await before.as.readSide.waitFor(await before.as.store.headPosition());
    const browser = new UserAgent();
    await signInAndDecide(browser, before.config.issuer, (await authorizationUrl(await discover(before.config.issuer), client, 'profile')).url, alice);
    earlierCookie = browser.cookies.get('as_signin')!;
    await before.close();
    system = await startSystem(dir.path, { env: { SIGN_IN_SESSION_TTL: '0' } });
  });
  afterAll(async () => {
    await system.close();
    dir.remove();
  });

  it('asks for the password at every authorization and sets no sign-in cookie', async () => {
    const as = await discover(system.config.issuer);
    const browser = new UserAgent();
    await signInAndDecide(browser, system.config.issuer, (await authorizationUrl(as, client, 'profile')).url, alice);
    expect(browser.cookies.has('as_signin')).toBe(false);
    // signInAndDecide itself insists on the login page: it throws if the browser is sent elsewhere.
    const again = await signInAndDecide(browser, system.config.issuer, (await authorizationUrl(as, client, 'profile')).url, alice);
    expect(again.searchParams.get('code')).toEqual(expect.any(String));
    expect((await system.as.store.readAll(0, 100_000)).filter((e) => e.type === 'SignInSessionStarted')).toHaveLength(1);
  });

  it('still keeps the account page signed in, for 30 minutes, with a session authorizations do not use', async () => {
    const browser = new UserAgent();
    const loginForm = hiddenFields(await (await browser.get(`${system.config.issuer}/account`)).text());
    const login = await browser.postForm(`${system.config.issuer}/account/login`, { ...loginForm, ...alice });
    expect(login.headers.getSetCookie().find((c) => c.startsWith('as_signin='))).toMatch(/Max-Age=1800/);
    expect(await (await browser.get(`${system.config.issuer}/account`)).text()).toContain('Applications that can act for you');
    const { url } = await authorizationUrl(await discover(system.config.issuer), client, 'profile');
    expect(location(await browser.get(url.toString()), system.config.issuer).pathname).toBe('/login');
  });

  it('no longer honours a session started while sessions were on', async () => {
    expect(earlierCookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const browser = new UserAgent();
    browser.cookies.set('as_signin', earlierCookie);
    const { url } = await authorizationUrl(await discover(system.config.issuer), client, 'profile');
    const answer = await browser.get(url.toString());
    expect(location(answer, system.config.issuer).pathname).toBe('/login');
  });
});
