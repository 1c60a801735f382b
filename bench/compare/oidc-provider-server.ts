/**
 * node-oidc-provider configured to do the same work as this server: client_secret_basic,
 * ES256 JWT access tokens for one resource server, refresh tokens rotated at every use,
 * introspection, its in-memory adapter, and a login and consent step whose password check
 * is the same scrypt as ours. Runs in its own process:
 * `node oidc-provider-server.js <port> <jwk> <jwt|opaque|oidc> <users as JSON: {name: scrypt hash}>`.
 * In `oidc` mode it is the OpenID Provider of the OpenID Connect row: no resource indicators,
 * so the access token is for its UserInfo, and the accounts have profile claims.
 * DPoP (RFC 9449) as ours has it by default: a nonce of its own required at the token
 * endpoint, none asked for where a bound token is presented (its UserInfo).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Provider from 'oidc-provider';
import { verifyPassword } from '../../src/credentials/password.js';

const [port, privateJwk] = [Number(process.argv[2]), JSON.parse(process.argv[3]) as Record<string, unknown>];
// It cannot introspect its structured JWT tokens, so the introspection comparison runs it with opaque ones.
const accessTokenFormat = process.argv[4] === 'opaque' ? 'opaque' : 'jwt';
const oidc = process.argv[4] === 'oidc';
const users = new Map(Object.entries(JSON.parse(process.argv[5] ?? '{}') as Record<string, string>));
const issuer = `http://127.0.0.1:${port}`;
const resource = 'http://127.0.0.1:4000';
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench',
      client_secret: 'bench-secret-bench-secret-bench-secret',
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      redirect_uris: ['https://bench.example/cb'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      // Its only key is ES256, so ID tokens (unused here) must say so too.
      id_token_signed_response_alg: 'ES256',
      scope: oidc ? 'openid profile items:read' : 'profile items:read',
    },
  ],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: sub, preferred_username: sub }) }),
  jwks: { keys: [privateJwk] },
  scopes: oidc ? ['openid', 'profile', 'items:read'] : ['profile', 'items:read'],
  pkce: { required: () => true },
  // As ours: every refresh answers with a new refresh token and spends the old one.
  rotateRefreshToken: true,
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: (ctx) => ctx.oidc.route === 'token' },
    resourceIndicators: {
      enabled: !oidc,
      defaultResource: () => resource,
      getResourceServerInfo: () => ({ scope: 'profile items:read', audience: resource, accessTokenFormat, jwt: { sign: { alg: 'ES256' } } }),
      useGrantedResource: () => true,
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const form = (res: ServerResponse, action: string, fields: string) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><form method="post" action="${action}">${fields}<button type="submit">Continue</button></form>`);
};

/** The login and consent pages, in the shape of its documented interaction example. */
async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, step: string | undefined): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET' && step === undefined) {
    return details.prompt.name === 'login'
      ? form(res, `/interaction/${uid}/login`, '<input name="username"><input type="password" name="password">')
      : form(res, `/interaction/${uid}/confirm`, '<input type="hidden" name="decision" value="approve">');
  }
  if (req.method === 'POST' && step === 'login') {
    const params = await formOf(req);
    const hash = users.get(params.get('username') ?? '');
    if (!hash || !(await verifyPassword(params.get('password') ?? '', hash))) {
      res.writeHead(401).end('invalid username or password');
      return;
    }
    return provider.interactionFinished(req, res, { login: { accountId: params.get('username')! } }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && step === 'confirm') {
    await formOf(req);
    const { prompt, params, session, grantId } = details;
    const grant = grantId ? (await provider.Grant.find(grantId))! : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
    const missing = prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }
  res.writeHead(404).end();
}

const callback = provider.callback();
createServer((req, res) => {
  const match = /^\/interaction\/([^/?]+)(?:\/(login|confirm))?/.exec(req.url ?? '');
  if (!match) return void callback(req, res);
  interaction(req, res, match[1], match[2]).catch((error: Error) => {
    if (!res.headersSent) res.writeHead(400);
    res.end(error.message);
  });
}).listen(port, '127.0.0.1', () => console.log('ready'));
