import type { Context } from 'koa';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import type { ClientDocument } from '../read-model/documents.js';
import type { Ports } from '../commands/ports.js';
import { verifyClientSecret } from '../credentials/client-secret.js';
import { decideAndAppend } from '../cqrs/decide-and-append.js';
import { clientAssertionDecider } from '../domain/client-assertion.js';
import { sha256 } from '../domain/crypto.js';
import { streams } from '../domain/events.js';
import { InvalidClient, InvalidRequest } from '../domain/oauth-errors.js';
import { allowClientOrigin } from '../http/cors.js';
import type { Params } from '../http/form.js';
import { contextOf } from './request-context.js';
import { findActiveClient } from './client-lookup.js';

/** invalid_client after HTTP Basic: RFC 6749 section 5.2 asks for 401 with a Basic challenge. */
export class InvalidClientBasic extends InvalidClient {}

export type ClientAssertionAudience = 'issuer' | 'issuer-or-endpoint';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'];
/** Assertions may live at most this long, which bounds how long their jti must be remembered. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;

function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  try {
    // RFC 6749 section 2.3.1: both parts are form-urlencoded before base64.
    const form = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** The client an assertion claims to come from, read before its signature is checked; undefined if unreadable. */
function assertionSubject(assertion: string): string | undefined {
  try {
    return decodeJwt(assertion).sub;
  } catch {
    return undefined;
  }
}

/**
 * Authenticates the client at the token, revocation and introspection endpoints with
 * exactly one method: HTTP Basic, a secret in the body, a private_key_jwt assertion
 * (RFC 7523) signed with one of its registered keys, or none for a public client. The
 * method must be the one the client registered.
 */
export class ClientAuthenticator {
  /**
   * Secret hashes by the client's document: a rotation gives the client a new document,
   * and the new hash is in the secret store before the rotation is an event, so a cached
   * hash never outlives its secret. Reading the shared file cost more than the rest of
   * authenticating a client.
   */
  private readonly secretHashes = new WeakMap<ClientDocument, string>();

  constructor(
    private readonly ports: Pick<Ports, 'readModel' | 'secrets' | 'streams'>,
    private readonly issuer: string,
    /** CLIENT_ASSERTION_AUDIENCE: what an assertion may name as its one audience besides the issuer. */
    private readonly assertionAudience: ClientAssertionAudience = 'issuer',
  ) {}

  /**
   * The audiences an assertion sent to this endpoint may name, each as its only value. The
   * update of RFC 7523 (draft-ietf-oauth-rfc7523bis) closes an audience injection: an
   * assertion a client made for another server (whose `aud` array names ours as well, or
   * whose token endpoint URL an attacker chose) must not authenticate here. So the issuer,
   * alone; older clients written to RFC 7523's "token endpoint URL" get it by setting.
   */
  private acceptedAudiences(path: string): string[] {
    return this.assertionAudience === 'issuer' ? [this.issuer] : [this.issuer, `${this.issuer}/token`, `${this.issuer}${path}`];
  }

  async authenticate(ctx: Context, params: Params): Promise<ClientDocument> {
    const authorization = ctx.get('authorization');
    const assertion = params.client_assertion !== undefined || params.client_assertion_type !== undefined;
    const methods = [authorization !== '', params.client_secret !== undefined, assertion].filter(Boolean).length;
    if (methods > 1) throw new InvalidRequest('use one client authentication method, not two');
    if (authorization) {
      const basic = decodeBasic(authorization);
      if (!basic) throw new InvalidClientBasic('malformed HTTP Basic credentials');
      if (params.client_id !== undefined && params.client_id !== basic.id) throw new InvalidRequest('client_id does not match the authenticated client');
      return await this.checkSecret(basic.id, basic.secret, 'client_secret_basic', InvalidClientBasic);
    }
    if (assertion) return this.checkAssertion(ctx, params);
    if (params.client_id === undefined) throw new InvalidClient('client authentication is required');
    if (params.client_secret !== undefined) return await this.checkSecret(params.client_id, params.client_secret, 'client_secret_post', InvalidClient);
    const client = await this.client(params.client_id);
    if (!client || client.tokenEndpointAuthMethod !== 'none') throw new InvalidClient('client authentication failed');
    return client;
  }

  /**
   * Authenticates the client, and lets pages of the origins of its registered redirect URIs
   * read the answer (CORS), a failed authentication's included: the error is the client's
   * own to read (a public client sending a secret, say), and it names nothing a stranger
   * origin could not guess. A client the request does not name rightly stays unreadable.
   */
  async authenticateReadableByClient(ctx: Context, params: Params): Promise<ClientDocument> {
    try {
      const client = await this.authenticate(ctx, params);
      allowClientOrigin(ctx, client);
      return client;
    } catch (error) {
      const named = this.namedClient(ctx, params);
      if (named) allowClientOrigin(ctx, named);
      throw error;
    }
  }

  /** The registered client a request names, whatever its credentials are worth. */
  private namedClient(ctx: Context, params: Params): ClientDocument | undefined {
    let clientId: string | undefined = params.client_id;
    const authorization = ctx.get('authorization');
    if (authorization) clientId = decodeBasic(authorization)?.id;
    else if (params.client_assertion) clientId = assertionSubject(params.client_assertion);
    return clientId === undefined ? undefined : this.ports.readModel.activeClient(clientId);
  }

  /** The read side, or a just-registered client's own stream on a miss (client-lookup.ts). */
  private client(clientId: string): Promise<ClientDocument | undefined> {
    return findActiveClient(this.ports, clientId);
  }

  private async checkSecret(clientId: string, secret: string, method: ClientDocument['tokenEndpointAuthMethod'], ErrorClass: typeof InvalidClient): Promise<ClientDocument> {
    const client = await this.client(clientId);
    let stored = client ? this.secretHashes.get(client) : undefined;
    if (client && stored === undefined) {
      stored = await this.ports.secrets.get('client_secret', client.clientId);
      if (stored !== undefined) this.secretHashes.set(client, stored);
    }
    const valid = stored !== undefined && verifyClientSecret(secret, stored);
    if (!client || !valid || client.tokenEndpointAuthMethod !== method) throw new ErrorClass('client authentication failed');
    return client;
  }

  private async checkAssertion(ctx: Context, params: Params): Promise<ClientDocument> {
    if (params.client_assertion_type !== JWT_BEARER_ASSERTION || !params.client_assertion) {
      throw new InvalidClient(`client_assertion_type must be ${JWT_BEARER_ASSERTION}, with a client_assertion`);
    }
    const failed = () => new InvalidClient('client authentication failed');
    const claimedId = assertionSubject(params.client_assertion);
    if (!claimedId || (params.client_id !== undefined && params.client_id !== claimedId)) throw failed();
    const client = await this.client(claimedId);
    if (!client || client.tokenEndpointAuthMethod !== 'private_key_jwt' || !client.jwks) throw failed();
    let payload;
    try {
      ({ payload } = await jwtVerify(params.client_assertion, createLocalJWKSet(client.jwks as JSONWebKeySet), {
        issuer: client.clientId,
        subject: client.clientId,
        algorithms: ASSERTION_ALGORITHMS,
        requiredClaims: ['exp', 'jti'],
        clockTolerance: 30,
      }));
    } catch {
      throw failed();
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (audiences.length !== 1 || !this.acceptedAudiences(ctx.path).includes(audiences[0] as string)) throw failed();
    const now = Math.floor(Date.now() / 1000);
    if (payload.exp! - now > MAX_ASSERTION_LIFETIME_SECONDS) throw new InvalidClient(`client assertions may live at most ${MAX_ASSERTION_LIFETIME_SECONDS} seconds`);
    // Good once, on every instance: the second append to the assertion's stream is refused.
    const command = { kind: 'AcceptClientAssertion' as const, clientId: client.clientId, jti: String(payload.jti), expiresAt: new Date(payload.exp! * 1000) };
    const stream = streams.clientAssertion(sha256(`${client.clientId}\u0000${command.jti}`));
    await decideAndAppend(this.ports.streams, stream, clientAssertionDecider, command, contextOf(ctx), { newStream: true });
    return client;
  }
}
