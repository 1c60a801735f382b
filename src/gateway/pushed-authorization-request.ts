import { openJson, sealJson } from '../http/sealed-json.js';
import type { ClientDocument } from '../read-model/documents.js';
import type { Config } from '../config/config.js';

/** RFC 9126 section 2.2: the request_uri's scheme and prefix. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
/** How long a pushed request can be used: long enough to send the browser, short enough to be worthless once leaked. */
export const PUSHED_REQUEST_TTL_SECONDS = 60;
const MAX_REQUEST_URI_LENGTH = 8192;

/** A pushed authorization request as the request_uri carries it: the grant id it will have, its parameters, its expiry. */
export interface PushedRequest {
  id: string;
  params: string;
  expiresAt: number;
}

/**
 * A pushed request is held by its request_uri, as an unsigned authorization is held by
 * the browser (held-authorization.ts): sealed (AES-256-GCM) under a key of the server's
 * own with the client's id as associated data, so only this server made it, only that
 * client can use it, and nothing is recorded until the user decides, like every
 * authorization. It is good once because its id becomes the grant's id, whose stream a
 * decision creates: the second decision on it finds the grant and is refused.
 */
export function sealPushedRequest(key: Buffer, clientId: string, request: PushedRequest): string {
  return `${REQUEST_URI_PREFIX}${sealJson(key, `par\u0000${clientId}`, request)}`;
}

/** The pushed request behind a request_uri, if this server made it for this client and it has not expired. */
export function openPushedRequest(key: Buffer, clientId: string, requestUri: string, nowMs: number): PushedRequest | undefined {
  if (!requestUri.startsWith(REQUEST_URI_PREFIX) || requestUri.length > MAX_REQUEST_URI_LENGTH) return undefined;
  const opened = openJson<PushedRequest>(key, `par\u0000${clientId}`, requestUri.slice(REQUEST_URI_PREFIX.length));
  return opened && opened.expiresAt > nowMs ? opened : undefined;
}

/** Whether this client may start an authorization only with a pushed request: the server's setting, its own, or the FAPI 2.0 profile's. */
export const mustPush = (config: Pick<Config, 'requirePushedAuthorizationRequests'>, client: ClientDocument): boolean =>
  config.requirePushedAuthorizationRequests || client.requirePushedAuthorizationRequests === true || client.securityProfile === 'fapi2';
