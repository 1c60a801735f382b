import * as oauth from 'oauth4webapi';
import { DEVICE_CODE_GRANT_TYPE } from '../../src/domain/events/event-schema.js';
import { startSystem, type TestSystem } from './system.js';

/** What the device authorization grant's tests share (test/e2e/device-authorization*.test.ts). */
export const insecure = { [oauth.allowInsecureRequests]: true };
export const alice = { username: 'alice', password: 'correct horse battery' };
export const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
export const tv: oauth.Client = { client_id: 'tv' };
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A system with alice, a public device client (tv, may refresh), a confidential one
 * (printer), and a code-flow client (web) not registered for the grant; and its metadata
 * as a strict client reads it.
 */
export async function startDeviceSystem(dir: string, env: Record<string, string>): Promise<{ system: TestSystem; as: oauth.AuthorizationServer; secrets: { printer: string; web: string } }> {
  const system = await startSystem(dir, { env });
  await system.as.admin.registerUser({ ...alice, name: 'Alice', email: 'alice@example.com' });
  await system.as.admin.registerClient({ clientId: 'tv', name: 'Living Room TV', clientType: 'public', redirectUris: [], scopes: ['openid', 'profile'], grantTypes: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'] });
  const { clientSecret } = await system.as.admin.registerClient({ clientId: 'printer', name: 'Printer', clientType: 'confidential', redirectUris: [], scopes: ['profile'], grantTypes: [DEVICE_CODE_GRANT_TYPE] });
  const web = await system.as.admin.registerClient({ clientId: 'web', name: 'Web', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/cb'], scopes: ['profile'] });
  await system.as.readSide.waitFor(await system.as.store.headPosition());
  const issuer = new URL(system.config.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  return { system, as, secrets: { printer: clientSecret!, web: web.clientSecret! } };
}

/** A form post to the server: the answer as it came. */
export async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; cacheControl: string | null; body: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
  return { status: response.status, cacheControl: response.headers.get('cache-control'), body: (await response.json()) as Record<string, unknown> };
}

/** A refusal as RFC 8628 section 3.5 and RFC 6749 section 5.2 say: the error code, a 4xx, no-store. */
export function expectRefusal(answer: { status: number; cacheControl: string | null; body: Record<string, unknown> }, error: string, status = 400): void {
  expect({ status: answer.status, error: answer.body.error, cacheControl: answer.cacheControl }).toEqual({ status, error, cacheControl: 'no-store' });
}
