import { runDeviceLogin } from '../../src/cli/device-login.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { DEMO_DEVICE_CLIENT_ID, DEMO_USER, seedDemo } from '../../src/system/demo-seed.js';
import { startSystem, type TestSystem } from '../support/system.js';
import { hiddenFields, location, UserAgent } from '../support/user-agent.js';
import { waitFor } from '../support/wait-for.js';

/**
 * The command-line example (`npm run device-login`) against the demo device client: it
 * prints a code and a URL, a person (an HTTP browser stand-in here) enters the code, signs
 * in and approves, and the command prints the claims of the tokens it got.
 */
describe('oauth-device-login, the terminal sign-in example', () => {
  const dir = tempDir();
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem(dir.path, { env: { DEVICE_CODE_INTERVAL: '1' } });
    await seedDemo(system.as, system.config);
  });
  afterAll(async () => {
    await system.close();
    dir.remove();
  });

  /** The person at the verification page: the code, the password, Allow. */
  async function approve(verificationUri: string, userCode: string): Promise<void> {
    const agent = new UserAgent();
    const codeForm = hiddenFields(await (await agent.get(verificationUri)).text());
    const login = location(await agent.postForm(verificationUri, { ...codeForm, user_code: userCode }), verificationUri);
    const loginForm = hiddenFields(await (await agent.get(login.href)).text());
    const approval = location(await agent.postForm(new URL('/login', login).href, { ...loginForm, username: DEMO_USER.username, password: DEMO_USER.password }), login.href);
    const approvalForm = hiddenFields(await (await agent.get(approval.href)).text());
    const done = await agent.postForm(new URL(approval.pathname, approval).href, { ...approvalForm, decision: 'approve' });
    expect(done.status).toBe(200);
  }

  it('prints where to enter the code, polls until the person approved, and prints the claims of the tokens', async () => {
    const out: string[] = [];
    const errors: string[] = [];
    const io = { out: (line: string) => void out.push(line), err: (line: string) => void errors.push(line), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };
    const run = runDeviceLogin(['--issuer', system.config.issuer], {}, io);
    await waitFor(() => out.length > 0, 'the code and the URL', 15_000);
    const [, verificationUri, userCode] = /open (\S+) in a browser and enter the code (\S+)$/.exec(out[0])!;
    expect(verificationUri).toBe(`${system.config.issuer}/device`);
    await approve(verificationUri, userCode);
    expect(await run).toBe(0);
    expect(errors).toEqual([]);
    const printed = out.join('\n');
    expect(printed).toContain(`"client_id": "${DEMO_DEVICE_CLIENT_ID}"`);
    expect(printed).toMatch(/ID token claims \(verified\): \{[^]*"aud": "demo-device"/);
  });

  it('says why when the server refuses, and fails', async () => {
    const errors: string[] = [];
    const io = { out: () => undefined, err: (line: string) => void errors.push(line), sleep: async () => undefined };
    expect(await runDeviceLogin(['--issuer', system.config.issuer, '--client-id', 'demo-web'], {}, io)).toBe(1);
    expect(errors.join('\n')).toContain('invalid_client');
  });
});
