import type { Context } from 'koa';
import type { ClientDocument } from '../../projections/clients.projection.js';
import type { Ports } from '../commands/ports.js';
import { verifyClientSecret } from '../credentials/client-secret.js';
import { InvalidClient, InvalidRequest } from '../domain/oauth-errors.js';
import type { Params } from '../http/form.js';

/** invalid_client after HTTP Basic: RFC 6749 section 5.2 asks for 401 with a Basic challenge. */
export class InvalidClientBasic extends InvalidClient {}

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

/**
 * Authenticates the client at the token endpoint with exactly one method: HTTP Basic,
 * a secret in the body, or none for a public client. The method must be the one the
 * client registered.
 */
export function authenticateClient(ctx: Context, params: Params, ports: Pick<Ports, 'readModel' | 'secrets'>): ClientDocument {
  const authorization = ctx.get('authorization');
  if (authorization) {
    const basic = decodeBasic(authorization);
    if (!basic) throw new InvalidClientBasic('malformed HTTP Basic credentials');
    if (params.client_secret !== undefined) throw new InvalidRequest('use one client authentication method, not two');
    if (params.client_id !== undefined && params.client_id !== basic.id) throw new InvalidRequest('client_id does not match the authenticated client');
    return checkSecret(basic.id, basic.secret, 'client_secret_basic', ports, InvalidClientBasic);
  }
  if (params.client_id === undefined) throw new InvalidClient('client authentication is required');
  if (params.client_secret !== undefined) return checkSecret(params.client_id, params.client_secret, 'client_secret_post', ports, InvalidClient);
  const client = ports.readModel.get<ClientDocument>('clients', params.client_id);
  if (!client || client.tokenEndpointAuthMethod !== 'none') throw new InvalidClient('client authentication failed');
  return client;
}

function checkSecret(
  clientId: string,
  secret: string,
  method: ClientDocument['tokenEndpointAuthMethod'],
  ports: Pick<Ports, 'readModel' | 'secrets'>,
  ErrorClass: typeof InvalidClient,
): ClientDocument {
  const client = ports.readModel.get<ClientDocument>('clients', clientId);
  const stored = client ? ports.secrets.get('client_secret', client.clientId) : undefined;
  const valid = stored !== undefined && verifyClientSecret(secret, stored);
  if (!client || !valid || client.tokenEndpointAuthMethod !== method) throw new ErrorClass('client authentication failed');
  return client;
}
