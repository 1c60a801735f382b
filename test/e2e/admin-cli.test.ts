import { runAdmin, type Io } from '../../src/cli/admin.js';
import { openCommandSide } from '../../src/system/command-side.js';
import { loadConfig } from '../../src/config/config.js';
import { runCodeFlow } from '../support/oauth-flow.js';
import { hiddenFields, UserAgent } from '../support/user-agent.js';
import { startSystem } from '../support/system.js';
import { tempDir } from '../../src/dev/temp-dir.js';

function captureIo(stdin = ''): Io & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => void out_.push(l), err: (l) => void err_.push(l), stdin: () => stdin };
}

describe('oauth-admin, the command line', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const env = { DATA_DIR: dir.path };

  it('registers a user and a client that then run the flow against a server on the same data', async () => {
    const io = captureIo('a long enough password\n');
    expect(await runAdmin(['user', 'add', '--username', 'bob', '--name', 'Bob', '--password-stdin'], env, io)).toBe(0);
    expect(io.out_[0]).toMatch(/^registered user bob \(sub [0-9a-f-]{36}\)$/);

    const clientIo = captureIo();
    expect(await runAdmin(['client', 'add', '--id', 'cli-app', '--name', 'CLI App', '--redirect-uri', 'http://127.0.0.1:9/cb', '--scope', 'profile'], env, clientIo)).toBe(0);
    const secret = /^client_secret: (\S+)$/m.exec(clientIo.out_.join('\n'))![1];

    const listIo = captureIo();
    expect(await runAdmin(['client', 'list'], env, listIo)).toBe(0);
    expect(listIo.out_.join('\n')).toContain('cli-app\tconfidential\tclient_secret_basic\tauthorization_code,refresh_token\tCLI App\thttp://127.0.0.1:9/cb');

    const system = await startSystem(dir.path);
    try {
      const { tokens } = await runCodeFlow(system.config.issuer, { clientId: 'cli-app', clientSecret: secret, redirectUri: 'http://127.0.0.1:9/cb' }, { username: 'bob', password: 'a long enough password' }, 'profile');
      expect(tokens.scope).toBe('profile');
    } finally {
      await system.close();
    }
  });

  it('says clearly what is wrong, with a non-zero exit code', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['client', 'add', '--name', 'X', '--redirect-uri', 'http://127.0.0.1/cb'], /--id is required/],
      [['client', 'add', '--id', 'x', '--name', 'X'], /--redirect-uri is required/],
      [['client', 'add', '--id', 'y', '--name', 'Y', '--redirect-uri', 'not a uri'], /not an absolute URI/],
      [['client', 'add', '--id', 'cli-app', '--name', 'Again', '--redirect-uri', 'http://127.0.0.1/cb'], /already registered/],
      [['user', 'add', '--username', 'bob', '--name', 'Bob', '--password', 'another password'], /already exists/],
      [['user', 'add', '--username', 'carol', '--name', 'Carol', '--password', 'short'], /at least 8 characters/],
      [['client', 'remove'], /unknown command "client remove"/],
      [['client', 'add', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [argv, message] of cases) {
      const io = captureIo();
      expect(await runAdmin(argv, env, io)).toBeGreaterThan(0);
      expect(io.err_.join('\n')).toMatch(message);
    }
    const bad = captureIo();
    expect(await runAdmin(['client', 'list'], { DATA_DIR: dir.path, AS_PORT: 'x' }, bad)).toBe(1);
    expect(bad.err_.join('\n')).toMatch(/AS_PORT must be a port number/);
  });

  it('rotates signing keys: a new key of each algorithm is published, with the time it starts signing', async () => {
    const before = captureIo();
    await runAdmin(['keys', 'list'], env, before);
    const io = captureIo();
    expect(await runAdmin(['keys', 'rotate', '--activate-after', '120'], env, io)).toBe(0);
    const published = io.out_.map((line) => /^published (ES256|RS256) signing key ([0-9a-f-]{36}); a running authorization server signs with it from (\S+)$/.exec(line)!);
    expect(published.map((kid) => kid[1])).toEqual(['ES256', 'RS256']);
    const after = captureIo();
    await runAdmin(['keys', 'list'], env, after);
    expect(after.out_).toHaveLength(before.out_.length + 2);
    for (const kid of published) {
      expect(Date.parse(kid[3]) - Date.now()).toBeGreaterThan(100_000);
      expect(after.out_.join('\n')).toContain(`${kid[2]}\tpublished\tactivate after ${kid[3]}`);
    }
    const one = captureIo();
    expect(await runAdmin(['keys', 'rotate', '--alg', 'RS256', '--activate-after', '120'], env, one)).toBe(0);
    expect(one.out_).toHaveLength(1);
    expect(one.out_[0]).toMatch(/^published RS256 signing key/);
    const bad = captureIo();
    expect(await runAdmin(['keys', 'rotate', '--activate-after', 'soon'], env, bad)).toBe(2);
    expect(await runAdmin(['keys', 'rotate', '--alg', 'HS256'], env, captureIo())).toBe(2);
  });

  it('registers, lists and disables resource servers, and clients bound to them (RFC 8707)', async () => {
    const uri = 'https://calendar.example/api';
    expect(await runAdmin(['resource', 'add', '--uri', uri, '--name', 'Calendar', '--scope', 'calendar:read calendar:write'], env, captureIo())).toBe(0);
    const list = captureIo();
    await runAdmin(['resource', 'list'], env, list);
    expect(list.out_).toContain(`${uri}\tcalendar:read calendar:write\tCalendar`);
    const bad = captureIo();
    expect(await runAdmin(['resource', 'add', '--uri', `${uri}#x`, '--name', 'Bad', '--scope', 'a'], env, bad)).toBe(1);
    expect(bad.err_.join('\n')).toMatch(/without query or fragment/);
    expect(await runAdmin(['client', 'add', '--id', 'planner', '--name', 'Planner', '--redirect-uri', 'https://p.example/cb', '--resource', uri], env, captureIo())).toBe(0);
    const badClient = captureIo();
    expect(await runAdmin(['client', 'add', '--id', 'planner2', '--name', 'P', '--redirect-uri', 'https://p.example/cb', '--resource', 'calendar'], env, badClient)).toBe(1);
    expect(badClient.err_.join('\n')).toMatch(/resources must be absolute/);
    expect(await runAdmin(['resource', 'disable', '--uri', uri], env, captureIo())).toBe(0);
    const after = captureIo();
    await runAdmin(['resource', 'list'], env, after);
    expect(after.out_).toContain(`${uri}\tcalendar:read calendar:write\tCalendar\tdisabled`);
  });

  it('registers a machine client for client_credentials', async () => {
    const io = captureIo();
    expect(await runAdmin(['client', 'add', '--id', 'robot', '--name', 'Robot', '--redirect-uri', 'https://r.example/cb', '--grant-type', 'client_credentials'], env, io)).toBe(0);
    const list = captureIo();
    await runAdmin(['client', 'list'], env, list);
    expect(list.out_.join('\n')).toContain('robot\tconfidential\tclient_secret_basic\tclient_credentials\tRobot');
    const bad = captureIo();
    expect(await runAdmin(['client', 'add', '--id', 'r2', '--name', 'R', '--redirect-uri', 'https://r.example/cb', '--grant-type', 'password'], env, bad)).toBe(2);
    expect(bad.err_.join('\n')).toMatch(/unknown --grant-type password/);
  });

  it('registers an OpenID relying party with its ID token algorithm and logout addresses, and refuses bad ones', async () => {
    const io = captureIo();
    expect(await runAdmin([
      'client', 'add', '--id', 'oidc-rp', '--name', 'RP', '--redirect-uri', 'https://rp.example/cb', '--scope', 'openid profile',
      '--id-token-alg', 'ES256', '--post-logout-redirect-uri', 'https://rp.example/bye', '--post-logout-redirect-uri', 'https://rp.example/later',
      '--backchannel-logout-uri', 'https://rp.example/backchannel', '--backchannel-logout-session-required',
    ], env, io)).toBe(0);
    const side = await openCommandSide(loadConfig(env));
    try {
      expect(side.ports.readModel.client('oidc-rp')).toMatchObject({
        scopes: ['openid', 'profile'], idTokenSignedResponseAlg: 'ES256', postLogoutRedirectUris: ['https://rp.example/bye', 'https://rp.example/later'],
        backchannelLogoutUri: 'https://rp.example/backchannel', backchannelLogoutSessionRequired: true,
      });
    } finally {
      await side.close();
    }
    const badAlg = captureIo();
    expect(await runAdmin(['client', 'add', '--id', 'rp2', '--name', 'R', '--redirect-uri', 'https://rp.example/cb', '--id-token-alg', 'none'], env, badAlg)).toBe(2);
    expect(badAlg.err_.join('\n')).toMatch(/--id-token-alg must be one of ES256, RS256/);
    const badUri = captureIo();
    expect(await runAdmin(['client', 'add', '--id', 'rp3', '--name', 'R', '--redirect-uri', 'https://rp.example/cb', '--backchannel-logout-uri', 'https://rp.example/bc#frag'], env, badUri)).not.toBe(0);
  });

  it('prints help, for everything and for each command', async () => {
    const io = captureIo();
    expect(await runAdmin(['--help'], env, io)).toBe(0);
    expect(io.out_[0]).toMatch(/^oauth-admin: manage the authorization server's clients, users and keys/);
    for (const [argv, first] of [[['client', '--help'], /^oauth-admin client:/], [['user', 'add', '--help'], /^oauth-admin user:/], [['keys', '-h'], /^oauth-admin keys:/], [['audit-key', 'create', '--help'], /^oauth-admin audit-key:/]] as const) {
      const help = captureIo();
      expect(await runAdmin([...argv], env, help)).toBe(0);
      expect(help.out_[0]).toMatch(first);
    }
  });

  it('rotates a client secret, disables a client and a user, and the running server obeys', async () => {
    const add = captureIo();
    await runAdmin(['client', 'add', '--id', 'rot', '--name', 'Rot', '--redirect-uri', 'http://127.0.0.1:9/rot', '--grant-type', 'client_credentials'], env, add);
    const oldSecret = /^client_secret: (\S+)$/m.exec(add.out_.join('\n'))![1];
    await runAdmin(['user', 'add', '--username', 'dora', '--name', 'Dora', '--password', 'dora password'], env, captureIo());
    const system = await startSystem(dir.path);
    try {
      const token = (secret: string) =>
        fetch(`${system.config.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`rot:${secret}`).toString('base64')}` },
          body: 'grant_type=client_credentials',
        });
      expect((await token(oldSecret)).status).toBe(200);
      const rotate = captureIo();
      expect(await runAdmin(['client', 'rotate-secret', '--id', 'rot'], env, rotate)).toBe(0);
      const newSecret = /^new client_secret for rot: (\S+)$/m.exec(rotate.out_.join('\n'))![1];
      await system.as.readSide.waitFor(await system.as.store.headPosition());
      expect((await token(oldSecret)).status).toBe(401);
      expect((await token(newSecret)).status).toBe(200);

      expect(await runAdmin(['client', 'disable', '--id', 'rot'], env, captureIo())).toBe(0);
      await new Promise((r) => setTimeout(r, 400)); // the server's read side polls the shared file
      expect((await token(newSecret)).status).toBe(401);
      const list = captureIo();
      await runAdmin(['client', 'list'], env, list);
      expect(list.out_.find((l) => l.startsWith('rot\t'))).toMatch(/\tdisabled$/);
      const disabledAgain = captureIo();
      expect(await runAdmin(['client', 'disable', '--id', 'rot'], env, disabledAgain)).toBe(1);
      expect(disabledAgain.err_.join('')).toMatch(/client rot is disabled/);

      const signIn = async () => {
        const browser = new UserAgent();
        const page = await (await browser.get(`${system.config.issuer}/account`)).text();
        return (await browser.postForm(`${system.config.issuer}/account/login`, { ...hiddenFields(page), username: 'dora', password: 'dora password' })).status;
      };
      expect(await signIn()).toBe(303);
      expect(await runAdmin(['user', 'disable', '--username', 'dora'], env, captureIo())).toBe(0);
      await new Promise((r) => setTimeout(r, 400)); // the server's read side polls the shared file
      expect(await signIn()).toBe(401);
    } finally {
      await system.close();
    }
  });

  it('keeps secrets out of the events it writes', async () => {
    const side = await openCommandSide(loadConfig(env));
    const events = JSON.stringify(await side.ports.store.readAll(0, 1000));
    await side.close();
    expect(events).not.toContain('a long enough password');
    expect(events).not.toContain('scrypt$');
    expect(events).not.toContain('sha256$');
  });
});
