import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import Koa, { type Context } from 'koa';
import * as client from 'openid-client';
import { parseForm } from '../http/form.js';
import { html, showPage, type Html } from '../http/html.js';
import { openJson, sealJson } from '../http/sealed-json.js';
import { securityHeaders } from '../http/security-headers.js';
import { EndedSessions } from './ended-sessions.js';

export interface DemoClientSettings {
  issuer: string;
  resourceServerUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** With `openid`, the demo is an OpenID relying party: ID token, UserInfo, logout. */
  scope: string;
}

/** A sign-in under way, carried by the browser (sealed) rather than held here. */
interface Pending {
  codeVerifier: string;
  state: string;
  nonce: string;
  expiresAt: number;
}

/** The relying party's own session after an OpenID sign-in, carried by the browser (sealed) too. */
interface Session {
  sub: string;
  name: string;
  sid: string | undefined;
  idToken: string;
  expiresAt: number;
}

const FLOW_SECONDS = 10 * 60;
const SESSION_SECONDS = 8 * 3600;
const BACK_CHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * The fourth protagonist: a small confidential web client that runs the code flow with
 * PKCE through the user's browser, using openid-client (a strict client nobody here
 * wrote), and shows each of the seven steps as it happens. With `openid` in its scope it
 * is an OpenID Connect relying party: it shows the ID token's claims and UserInfo, signs
 * out with RP-initiated logout, and takes back-channel logout tokens, after which its own
 * session is over and its page says so.
 *
 * It holds nothing per visitor: a sign-in under way and a signed-in session are sealed
 * into the browser's cookies; only the ids of sign-in sessions ended by back-channel
 * logout are kept, a bounded number (ended-sessions.ts).
 */
export function createDemoClientApp(settings: DemoClientSettings): Koa {
  const issuer = new URL(settings.issuer);
  const openid = settings.scope.split(' ').includes('openid');
  const insecure = issuer.protocol === 'http:';
  // Restarting forgets the key, and with it the sign-ins under way and the sessions, as memory would.
  const cookieKey = randomBytes(32);
  const ended = new EndedSessions();
  let configuration: Promise<client.Configuration> | undefined;
  const discover = () =>
    (configuration ??= client
      .discovery(issuer, settings.clientId, { client_secret: settings.clientSecret }, client.ClientSecretBasic(settings.clientSecret), {
        execute: insecure ? [client.allowInsecureRequests] : [],
      })
      .catch((error) => {
        configuration = undefined;
        throw error;
      }));

  const app = new Koa();
  app.silent = true;
  const router = new Router();
  const cookie = (ctx: Context, name: string) => new RegExp(`(?:^|;\\s*)${name}=([A-Za-z0-9_-]{1,8192})(?:;|$)`).exec(ctx.get('cookie'))?.[1];
  const setCookie = (ctx: Context, name: string, value: string, maxAge: number) => ctx.append('Set-Cookie', `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`);
  const opened = <T extends { expiresAt: number }>(ctx: Context, name: string): T | undefined => {
    const sealed = cookie(ctx, name);
    const value = sealed ? openJson<T>(cookieKey, name, sealed) : undefined;
    return value && value.expiresAt > Date.now() ? value : undefined;
  };
  const show = (ctx: Context, title: string, body: Html, status = 200) => showPage(ctx, title, body, status);
  const signInForm = html`<form method="post" action="/signin"><button type="submit" id="signin">Sign in with the authorization server</button></form>`;

  router.get('/', (ctx) => {
    const session = opened<Session>(ctx, 'demo_session');
    if (session && session.sid && ended.has(session.sid)) {
      setCookie(ctx, 'demo_session', '', 0);
      return show(ctx, 'Signed out', html`<h1>Demo client</h1><p id="signed-out-elsewhere">You were signed out at the authorization server: it told this application (back-channel logout), and its session here is over.</p>${signInForm}`);
    }
    if (session) {
      return show(
        ctx,
        'Demo client',
        html`<h1>Demo client</h1><p id="signed-in-as">Signed in as ${session.name}</p>
<form method="post" action="/signout"><button type="submit" id="signout">Sign out</button></form>`,
      );
    }
    show(
      ctx,
      'Demo client',
      html`<h1>Demo client</h1><p>This application wants to read your profile and your items from the resource server.</p>
${signInForm}
<p class="muted">Authorization server: ${settings.issuer}<br>Resource server: ${settings.resourceServerUrl}</p>`,
    );
  });

  // Step 1: the authorization request, with PKCE (S256), state, and with openid a nonce.
  router.post('/signin', async (ctx) => {
    const config = await discover();
    const pending: Pending = { codeVerifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce(), expiresAt: Date.now() + FLOW_SECONDS * 1000 };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: settings.redirectUri,
      scope: settings.scope,
      state: pending.state,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      ...(openid ? { nonce: pending.nonce } : {}),
    });
    setCookie(ctx, 'demo_flow', sealJson(cookieKey, 'demo_flow', pending), FLOW_SECONDS);
    ctx.status = 303;
    ctx.redirect(url.toString());
  });

  // Steps 3 to 7: the code comes back, is exchanged for tokens, and the token buys the resources.
  router.get(new URL(settings.redirectUri).pathname, async (ctx) => {
    const flow = opened<Pending>(ctx, 'demo_flow');
    // Spent here: the browser is told to forget it (and the code it would bring again is single-use at the server).
    setCookie(ctx, 'demo_flow', '', 0);
    if (!flow) return show(ctx, 'Sign-in failed', html`<h1>Sign-in failed</h1><p class="error">This sign-in was not started here, or it expired.</p><p><a href="/">Start again</a></p>`, 400);
    const config = await discover();
    const callback = new URL(`${new URL(settings.redirectUri).origin}${ctx.url}`);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        ...(openid ? { expectedNonce: flow.nonce, idTokenExpected: true } : {}),
      });
    } catch (error) {
      const cause = error instanceof client.AuthorizationResponseError ? `${error.error}: ${error.error_description ?? ''}` : (error as Error).message;
      return show(ctx, 'Sign-in failed', html`<h1>Sign-in failed</h1><p class="error" id="error">${cause}</p><p><a href="/">Start again</a></p>`, 400);
    }
    const call = async (path: string) => {
      const response = await client.fetchProtectedResource(config, tokens.access_token, new URL(path, settings.resourceServerUrl), 'GET');
      return { status: response.status, body: await response.json().catch(() => null) };
    };
    const [profile, items] = await Promise.all([call('/api/profile'), call('/api/items')]);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString('utf8'));
    const idClaims = tokens.claims();
    const userInfo = idClaims ? await client.fetchUserInfo(config, tokens.access_token, idClaims.sub) : undefined;
    if (idClaims && tokens.id_token) {
      const session: Session = {
        sub: idClaims.sub,
        name: String(userInfo?.name ?? idClaims.sub),
        sid: typeof idClaims.sid === 'string' ? idClaims.sid : undefined,
        idToken: tokens.id_token,
        expiresAt: Date.now() + SESSION_SECONDS * 1000,
      };
      setCookie(ctx, 'demo_session', sealJson(cookieKey, 'demo_session', session), SESSION_SECONDS);
    }
    show(
      ctx,
      'Signed in',
      html`<h1>Signed in</h1>
<ol>
<li>Authorization request sent to <code>${config.serverMetadata().authorization_endpoint}</code> with PKCE (S256)${openid ? ' and a nonce' : ''}</li>
<li>You signed in and allowed access</li>
<li>Authorization code received, issuer checked: <code>${callback.searchParams.get('iss')}</code></li>
<li>Code exchanged at <code>${config.serverMetadata().token_endpoint}</code>${idClaims ? ', ID token checked (signature, issuer, audience, nonce)' : ''}</li>
<li>Access token received: <code>${tokens.token_type}</code>, expires in ${tokens.expires_in}s, scope <code>${tokens.scope}</code></li>
<li>Resource server called with <code>Authorization: Bearer …</code></li>
<li>Resources delivered:</li>
</ol>
<h2>Profile</h2><pre id="profile">${JSON.stringify(profile.body, null, 2)}</pre>
<h2>Items</h2><pre id="items">${JSON.stringify(items.body, null, 2)}</pre>
<h2>Access token claims</h2><pre id="claims">${JSON.stringify(claims, null, 2)}</pre>
${idClaims ? html`<h2>ID token claims</h2><pre id="id-token-claims">${JSON.stringify(idClaims, null, 2)}</pre>
<h2>UserInfo</h2><pre id="userinfo">${JSON.stringify(userInfo, null, 2)}</pre>
<form method="post" action="/signout"><button type="submit" id="signout">Sign out</button></form>` : ''}
<p><a href="/">Back</a></p>`,
    );
  });

  // RP-initiated logout: this application's session ends here, the sign-in session at the authorization server.
  router.post('/signout', async (ctx) => {
    const session = opened<Session>(ctx, 'demo_session');
    setCookie(ctx, 'demo_session', '', 0);
    ctx.status = 303;
    if (!session) return ctx.redirect('/');
    const config = await discover();
    ctx.redirect(client.buildEndSessionUrl(config, { id_token_hint: session.idToken, post_logout_redirect_uri: `${new URL(settings.redirectUri).origin}/`, state: randomBytes(8).toString('hex') }).toString());
  });

  // Back-channel logout: a logout token, checked as Back-Channel Logout 1.0 section 2.6 says; its session is over here.
  router.post('/backchannel', async (ctx) => {
    const config = await discover();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 16 * 1024) break;
      chunks.push(chunk);
    }
    const token = parseForm(Buffer.concat(chunks).toString('utf8')).logout_token;
    try {
      const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
      const { payload } = await jwtVerify(token ?? '', jwks, { issuer: settings.issuer, audience: settings.clientId, typ: 'logout+jwt', algorithms: ['RS256', 'ES256'], requiredClaims: ['iat', 'jti'] });
      const events = payload.events as Record<string, unknown> | undefined;
      if (!events || typeof events[BACK_CHANNEL_LOGOUT_EVENT] !== 'object' || payload.nonce !== undefined || typeof payload.sid !== 'string') throw new Error('not a logout token');
      ended.add(payload.sid);
      ctx.status = 200;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = '';
    } catch {
      ctx.status = 400;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'invalid_request' };
    }
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
