import * as oauth from 'oauth4webapi';
import { hiddenFields, location, UserAgent } from './user-agent.js';

export interface FlowClient {
  clientId: string;
  clientSecret: string | null;
  redirectUri: string;
}

/** oauth4webapi, as a user would configure it against a loopback http issuer. */
export async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
  const url = new URL(issuer);
  const response = await oauth.discoveryRequest(url, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true });
  return oauth.processDiscoveryResponse(url, response);
}

export const clientAuth = (client: FlowClient) => (client.clientSecret ? oauth.ClientSecretBasic(client.clientSecret) : oauth.None());

/** Step 1 as a strict client makes it: PKCE S256 and state. */
export async function authorizationUrl(as: oauth.AuthorizationServer, client: FlowClient, scope = 'profile items:read') {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('redirect_uri', client.redirectUri);
  url.searchParams.set('scope', scope);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return { url, codeVerifier, state };
}

/** Step 2 as the user does it: the login form, then the consent form. Returns the redirect back to the client. */
export async function signInAndDecide(
  browser: UserAgent,
  issuer: string,
  authorizeUrl: URL,
  credentials: { username: string; password: string },
  decision: 'approve' | 'deny' = 'approve',
): Promise<URL> {
  const toLogin = await browser.get(authorizeUrl.toString());
  if (toLogin.status !== 303) throw new Error(`authorize answered ${toLogin.status}: ${await toLogin.text()}`);
  const loginPage = await browser.get(location(toLogin, issuer).toString());
  const login = await browser.postForm(`${issuer}/login`, { ...hiddenFields(await loginPage.text()), ...credentials });
  if (login.status !== 303) throw new Error(`login answered ${login.status}`);
  const consentPage = await browser.get(location(login, issuer).toString());
  const consent = await browser.postForm(`${issuer}/consent`, { ...hiddenFields(await consentPage.text()), decision });
  return location(consent, issuer);
}

/** The whole flow up to the token response, as a strict client. */
export async function runCodeFlow(issuer: string, client: FlowClient, credentials: { username: string; password: string }, scope?: string) {
  const as = await discover(issuer);
  const oauthClient: oauth.Client = { client_id: client.clientId };
  const { url, codeVerifier, state } = await authorizationUrl(as, client, scope);
  const callback = await signInAndDecide(new UserAgent(), issuer, url, credentials);
  const params = oauth.validateAuthResponse(as, oauthClient, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, oauthClient, clientAuth(client), params, client.redirectUri, codeVerifier, {
    [oauth.allowInsecureRequests]: true,
  });
  const tokens = await oauth.processAuthorizationCodeResponse(as, oauthClient, response);
  return { as, tokens, code: params.get('code')!, callback };
}

/** A DPoP request once more with the nonce the server handed out (RFC 9449 section 8): oauth4webapi keeps it in its handle. */
export async function withNonceRetry<T>(request: () => Promise<Response>, process: (response: Response) => Promise<T>): Promise<T> {
  try {
    return await process(await request());
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    return process(await request());
  }
}
