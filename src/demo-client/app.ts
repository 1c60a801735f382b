import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import * as oauth from 'oauth4webapi';
import { html, page, type Html } from '../http/html.js';
import { openJson, sealJson } from '../http/sealed-json.js';
import { securityHeaders } from '../http/security-headers.js';

export interface DemoClientSettings {
  issuer: string;
  resourceServerUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scope: string;
}

/** A sign-in under way, carried by the browser (sealed) rather than held here. */
interface Pending {
  codeVerifier: string;
  state: string;
  expiresAt: number;
}

const FLOW_SECONDS = 10 * 60;

/**
 * The fourth protagonist: a small confidential web client that runs the code flow with
 * PKCE through the user's browser, using oauth4webapi (a strict client nobody here wrote),
 * and shows each of the seven steps as it happens.
 */
export function createDemoClientApp(settings: DemoClientSettings): Koa {
  const issuer = new URL(settings.issuer);
  const client: oauth.Client = { client_id: settings.clientId };
  const auth = oauth.ClientSecretBasic(settings.clientSecret);
  const insecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' };
  // Each started sign-in is sealed into the browser's cookie, so anyone may start as many
  // as they like without the client holding anything for them. A restart forgets the key,
  // and with it the sign-ins under way, as it forgot them when they were kept in memory.
  const flowKey = randomBytes(32);
  let metadata: Promise<oauth.AuthorizationServer> | undefined;
  const discover = () =>
    (metadata ??= oauth
      .discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure })
      .then((response) => oauth.processDiscoveryResponse(issuer, response))
      .catch((error) => {
        metadata = undefined;
        throw error;
      }));

  const app = new Koa();
  app.silent = true;
  const router = new Router();
  const cookieOf = (ctx: Context) => /(?:^|;\s*)demo_flow=([A-Za-z0-9_-]{1,4096})(?:;|$)/.exec(ctx.get('cookie'))?.[1];
  const flowCookie = (value: string, maxAge: number) => `demo_flow=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`;
  const show = (ctx: Context, title: string, body: Html, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = page(title, body);
  };

  router.get('/', (ctx) =>
    show(
      ctx,
      'Demo client',
      html`<h1>Demo client</h1><p>This application wants to read your profile and your items from the resource server.</p>
<form method="post" action="/signin"><button type="submit" id="signin">Sign in with the authorization server</button></form>
<p class="muted">Authorization server: ${settings.issuer}<br>Resource server: ${settings.resourceServerUrl}</p>`,
    ),
  );

  // Step 1: the authorization request, with PKCE (S256) and state.
  router.post('/signin', async (ctx) => {
    const as = await discover();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const flow = sealJson(flowKey, 'demo_flow', { codeVerifier, state, expiresAt: Date.now() + FLOW_SECONDS * 1000 } satisfies Pending);
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', settings.clientId);
    url.searchParams.set('redirect_uri', settings.redirectUri);
    url.searchParams.set('scope', settings.scope);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    ctx.set('Set-Cookie', flowCookie(flow, FLOW_SECONDS));
    ctx.status = 303;
    ctx.redirect(url.toString());
  });

  // Steps 3 to 7: the code comes back, is exchanged for a token, and the token buys the resources.
  router.get(new URL(settings.redirectUri).pathname, async (ctx) => {
    const sealed = cookieOf(ctx);
    const flow = sealed ? openJson<Pending>(flowKey, 'demo_flow', sealed) : undefined;
    // Spent here: the browser is told to forget it (and the code it would bring again is single-use at the server).
    ctx.set('Set-Cookie', flowCookie('', 0));
    if (!flow || flow.expiresAt <= Date.now()) return show(ctx, 'Sign-in failed', html`<h1>Sign-in failed</h1><p class="error">This sign-in was not started here, or it expired.</p><p><a href="/">Start again</a></p>`, 400);
    const as = await discover();
    let callback: URLSearchParams;
    try {
      callback = oauth.validateAuthResponse(as, client, new URL(ctx.href), flow.state);
    } catch (error) {
      const cause = error instanceof oauth.AuthorizationResponseError ? `${error.error}: ${error.error_description ?? ''}` : (error as Error).message;
      return show(ctx, 'Sign-in failed', html`<h1>Sign-in failed</h1><p class="error" id="error">${cause}</p><p><a href="/">Start again</a></p>`, 400);
    }
    const tokenResponse = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, callback, settings.redirectUri, flow.codeVerifier, insecure),
    );
    const call = async (path: string) => {
      const response = await oauth.protectedResourceRequest(tokenResponse.access_token, 'GET', new URL(path, settings.resourceServerUrl), undefined, undefined, insecure);
      return { status: response.status, body: await response.json().catch(() => null) };
    };
    const [profile, items] = await Promise.all([call('/api/profile'), call('/api/items')]);
    const claims = JSON.parse(Buffer.from(tokenResponse.access_token.split('.')[1], 'base64url').toString('utf8'));
    show(
      ctx,
      'Signed in',
      html`<h1>Signed in</h1>
<ol>
<li>Authorization request sent to <code>${as.authorization_endpoint}</code> with PKCE (S256)</li>
<li>You signed in and allowed access</li>
<li>Authorization code received, issuer checked: <code>${callback.get('iss')}</code></li>
<li>Code exchanged at <code>${as.token_endpoint}</code></li>
<li>Access token received: <code>${tokenResponse.token_type}</code>, expires in ${tokenResponse.expires_in}s, scope <code>${tokenResponse.scope}</code></li>
<li>Resource server called with <code>Authorization: Bearer …</code></li>
<li>Resources delivered:</li>
</ol>
<h2>Profile</h2><pre id="profile">${JSON.stringify(profile.body, null, 2)}</pre>
<h2>Items</h2><pre id="items">${JSON.stringify(items.body, null, 2)}</pre>
<h2>Access token claims</h2><pre id="claims">${JSON.stringify(claims, null, 2)}</pre>
<p><a href="/">Back</a></p>`,
    );
  });

  app.use(securityHeaders());
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch {
      show(ctx, 'Something went wrong', html`<h1>Something went wrong</h1><p class="error">The authorization server or the resource server did not answer as expected.</p><p><a href="/">Start again</a></p>`, 502);
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
