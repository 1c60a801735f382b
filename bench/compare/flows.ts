/**
 * The load generator for multi-step workloads, in a process of its own like load.ts:
 * `node flows.js '<options as JSON>'` runs `concurrency` loops for `duration` seconds and
 * prints `started` when the clock starts, then one JSON line with completions per second
 * and its own CPU time.
 *
 * - code-flow: a new browser (cookie jar) per flow: the authorization request, the login
 *   form, the consent form, then the token request with PKCE and HTTP Basic.
 * - code-flow-signed-in: one browser per loop, signed in by a first flow before the clock
 *   starts; then flows whose sign-in session stands in for the password (a login form is
 *   an error), with prompt=consent so that both servers ask for consent every time.
 * - oidc-signed-in: the signed-in flow as an OpenID relying party makes it: scope openid
 *   and a nonce, an ID token required in the token response, then a UserInfo request with
 *   the access token.
 * - refresh: one code flow per loop for a refresh token (before the clock starts), then
 *   refresh grants back to back, each with the refresh token the previous answer rotated to.
 * - dpop-client-credentials: DPoP-bound client_credentials tokens (RFC 9449), a fresh proof
 *   per request with one key per loop, carrying the nonce of the last answer; a loop's
 *   first request (before the clock starts) learns the nonce.
 * - dpop-resource: one DPoP-bound token per loop (before the clock starts), by
 *   client_credentials or by a code flow (`dpopGrant`), then GET `resourceUrl` back to back
 *   with it, a fresh proof with `ath` per request.
 *
 * The browser part is generic (follow redirects, fill the one form on the page), so the
 * same code drives this server and node-oidc-provider.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { accessTokenHash, DPoPProofMaker } from './dpop-proof-maker.js';

interface Options {
  workload: 'code-flow' | 'code-flow-signed-in' | 'oidc-signed-in' | 'refresh' | 'dpop-client-credentials' | 'dpop-resource';
  issuer: string;
  authorizePath: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scope: string;
  /** Where UserInfo is (oidc-signed-in). */
  userinfoPath?: string;
  /** The protected resource the dpop-resource workload calls, and how its token is granted. */
  resourceUrl?: string;
  dpopGrant?: 'client_credentials' | 'authorization_code';
  users: Array<{ username: string; password: string }>;
  /**
   * Several instances of one issuer: the token requests go to them in turn, as behind a
   * round-robin balancer, so a refresh token rotated at one is presented at the next.
   */
  instances?: string[];
  concurrency: number;
  duration: number;
}

interface Answer {
  status: number;
  location: string | undefined;
  cookies: string[];
  body: string;
  dpopNonce: string | undefined;
}

const options = JSON.parse(process.argv[2]) as Options;
const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency * 2 });
const basic = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;

function send(method: string, url: URL, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, cookies: res.headers['set-cookie'] ?? [], body: text, dpopNonce: res.headers['dpop-nonce'] as string | undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

class Browser {
  private readonly jar = new Map<string, string>();
  async go(method: string, url: URL, body?: string): Promise<Answer> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const answer = await send(method, url, cookie ? { cookie } : {}, body);
    for (const line of answer.cookies) {
      const pair = line.split(';')[0];
      const eq = pair.indexOf('=');
      this.jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return answer;
  }
}

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The user's part: follow redirects, fill in the page's form, until the redirect back to the client. */
async function authorize(
  user: { username: string; password: string },
  browser = new Browser(),
  extra: Record<string, string> = {},
): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  let url = new URL(options.authorizePath, options.issuer);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: options.clientId, redirect_uri: options.redirectUri, scope: options.scope, state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', ...extra,
  })) url.searchParams.set(k, v);
  let answer = await browser.go('GET', url);
  for (let step = 0; step < 12; step++) {
    if (answer.status >= 300 && answer.status < 400 && answer.location) {
      url = new URL(answer.location, url);
      if (url.href.startsWith(options.redirectUri)) {
        if (url.searchParams.get('state') !== state) throw new Error('state mismatch');
        const code = url.searchParams.get('code');
        if (!code) throw new Error(`no code: ${url.search}`);
        return { code, verifier };
      }
      answer = await browser.go('GET', url);
      continue;
    }
    const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(answer.body);
    if (answer.status !== 200 || !form) throw new Error(`unexpected answer ${answer.status} at ${url.pathname}`);
    const fields = new URLSearchParams();
    for (const m of answer.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(m[1], unescape(m[2]));
    if (/name="username"/.test(answer.body)) {
      if (extra.prompt === 'consent') throw new Error('asked for the password although the browser is signed in');
      fields.set('username', user.username);
      fields.set('password', user.password);
    } else if (!fields.has('decision')) {
      fields.set('decision', 'approve');
    }
    url = new URL(unescape(form[1]), url);
    answer = await browser.go('POST', url, fields.toString());
  }
  throw new Error('too many steps');
}

let turn = 0;
const nextInstance = () => (options.instances ? options.instances[turn++ % options.instances.length] : options.issuer);

async function token(params: Record<string, string>): Promise<{ access_token: string; refresh_token?: string; id_token?: string }> {
  const answer = await send('POST', new URL('/token', nextInstance()), { authorization: basic }, new URLSearchParams(params).toString());
  if (answer.status !== 200) throw new Error(`token endpoint answered ${answer.status}: ${answer.body}`);
  return JSON.parse(answer.body) as { access_token: string; refresh_token?: string; id_token?: string };
}

/** An OpenID relying party's sign-in: the flow with a nonce, an ID token required, then UserInfo. */
async function openIdSignIn(user: Options['users'][number], browser: Browser | undefined): Promise<void> {
  const nonce = randomBytes(16).toString('base64url');
  const tokens = await codeFlow(user, browser, { prompt: 'consent', nonce });
  if (!tokens.id_token) throw new Error('no ID token');
  const [, payload] = tokens.id_token.split('.');
  if (JSON.parse(Buffer.from(payload, 'base64url').toString()).nonce !== nonce) throw new Error('the ID token does not echo the nonce');
  const userinfo = await send('GET', new URL(options.userinfoPath!, options.issuer), { authorization: `Bearer ${tokens.access_token}` });
  if (userinfo.status !== 200 || !JSON.parse(userinfo.body).sub) throw new Error(`userinfo answered ${userinfo.status}: ${userinfo.body}`);
}

/** A token request with a fresh DPoP proof; asked for a (newer) nonce (use_dpop_nonce), once more with it. */
async function dpopToken(proofs: DPoPProofMaker, params: Record<string, string>): Promise<{ access_token: string }> {
  const url = new URL('/token', options.issuer);
  for (let attempt = 0; ; attempt++) {
    const answer = await send('POST', url, { authorization: basic, dpop: proofs.proof('POST', url.href) }, new URLSearchParams(params).toString());
    proofs.heard(answer.dpopNonce);
    if (answer.status === 200) {
      const tokens = JSON.parse(answer.body) as { access_token: string; token_type: string };
      if (tokens.token_type.toLowerCase() !== 'dpop') throw new Error(`a ${tokens.token_type} token, not a DPoP-bound one`);
      return tokens;
    }
    if (attempt > 0 || answer.status !== 400 || (JSON.parse(answer.body) as { error: string }).error !== 'use_dpop_nonce') {
      throw new Error(`token endpoint answered ${answer.status}: ${answer.body}`);
    }
  }
}

interface BoundToken {
  proofs: DPoPProofMaker;
  token: string;
  ath: string;
}

/** A loop's key and a token bound to it, taken before the clock starts (and with it the server's nonce). */
async function dpopBoundToken(user: Options['users'][number]): Promise<BoundToken> {
  const proofs = new DPoPProofMaker();
  let params: Record<string, string> = { grant_type: 'client_credentials', scope: options.scope };
  if (options.dpopGrant === 'authorization_code') {
    const { code, verifier } = await authorize(user);
    params = { grant_type: 'authorization_code', code, redirect_uri: options.redirectUri, code_verifier: verifier };
  }
  const { access_token: token } = await dpopToken(proofs, params);
  return { proofs, token, ath: accessTokenHash(token) };
}

/** The token presented to the resource with the DPoP scheme and a fresh proof for this request. */
async function presentBoundToken({ proofs, token, ath }: BoundToken): Promise<void> {
  const url = new URL(options.resourceUrl!);
  const answer = await send('GET', url, { authorization: `DPoP ${token}`, dpop: proofs.proof('GET', url.href, ath) });
  if (answer.status !== 200) throw new Error(`${url.pathname} answered ${answer.status}: ${answer.body}`);
}

const codeFlow = async (user: Options['users'][number], browser?: Browser, extra?: Record<string, string>) => {
  const { code, verifier } = await authorize(user, browser, extra);
  return token({ grant_type: 'authorization_code', code, redirect_uri: options.redirectUri, code_verifier: verifier });
};

let completed = 0;
let errors = 0;
let firstError: string | undefined;
let running = true;

const failed = (error: unknown) => {
  errors++;
  firstError ??= (error as Error).message;
};

/** One refresh token per loop, taken before the clock starts: the refresh workload measures refreshes only. */
async function firstRefreshToken(user: Options['users'][number]): Promise<string> {
  const { refresh_token } = await codeFlow(user);
  if (!refresh_token) throw new Error('no refresh token from the code flow');
  return refresh_token;
}

/** A browser signed in by one code flow with the password, taken before the clock starts. */
async function signedInBrowser(user: Options['users'][number]): Promise<Browser> {
  const browser = new Browser();
  await codeFlow(user, browser);
  return browser;
}

async function loop(index: number, refreshToken: string | undefined, browser: Browser | undefined, bound: BoundToken | undefined): Promise<void> {
  const user = options.users[index % options.users.length];
  while (running) {
    try {
      if (options.workload === 'code-flow') {
        if (!(await codeFlow(user)).access_token) throw new Error('no access token');
      } else if (options.workload === 'code-flow-signed-in') {
        if (!(await codeFlow(user, browser, { prompt: 'consent' })).access_token) throw new Error('no access token');
      } else if (options.workload === 'oidc-signed-in') {
        await openIdSignIn(user, browser);
      } else if (options.workload === 'dpop-client-credentials') {
        await dpopToken(bound!.proofs, { grant_type: 'client_credentials', scope: options.scope });
      } else if (options.workload === 'dpop-resource') {
        await presentBoundToken(bound!);
      } else {
        refreshToken ??= await firstRefreshToken(user);
        const answer = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
        if (!answer.refresh_token || answer.refresh_token === refreshToken) throw new Error('the refresh token was not rotated');
        refreshToken = answer.refresh_token;
      }
      if (running) completed++;
    } catch (error) {
      failed(error);
      refreshToken = undefined;
    }
  }
}

const users = Array.from({ length: options.concurrency }, (_, i) => options.users[i % options.users.length]);
const initial = options.workload === 'refresh' ? await Promise.all(users.map(firstRefreshToken)) : [];
const browsers = options.workload === 'code-flow-signed-in' || options.workload === 'oidc-signed-in' ? await Promise.all(users.map(signedInBrowser)) : [];
const bound = options.workload.startsWith('dpop-') ? await Promise.all(users.map(dpopBoundToken)) : [];
// The bench reads the servers' CPU clocks from here on: what came before is set-up.
console.log('started');
const cpuAtStart = process.cpuUsage();
const started = performance.now();
const loops = users.map((_, i) => loop(i, initial[i], browsers[i], bound[i]));
await new Promise((r) => setTimeout(r, options.duration * 1000));
running = false;
const seconds = (performance.now() - started) / 1000;
const done = completed;
await Promise.all(loops);
agent.destroy();
const cpu = process.cpuUsage(cpuAtStart);
console.log(JSON.stringify({ requestsPerSecond: done / seconds, operations: done, cpuSeconds: (cpu.user + cpu.system) / 1e6, errors, non2xx: 0, firstError }));
