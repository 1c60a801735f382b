import type { Decider } from './decider.js';
import type { ClientDeleted, ClientEvent, ClientRegistered } from './events.js';
import { InvalidRequest } from './oauth-errors.js';
import { isResourceIndicator } from './resource-indicator.js';

export type ClientCommand =
  | { kind: 'RegisterClient'; client: ClientRegistered['data'] }
  | { kind: 'UpdateClient'; client: ClientRegistered['data'] }
  | { kind: 'RotateClientSecret' }
  | { kind: 'DisableClient' }
  | { kind: 'DeleteClient'; reason: ClientDeleted['data']['reason'] };
export type ClientState = {
  registered: boolean;
  clientId: string | null;
  usesSecret: boolean;
  disabled: boolean;
  deleted: boolean;
  /** The registration as it stands: what an update (RFC 7592) is checked against. */
  metadata: ClientRegistered['data'] | null;
};

const USER_ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isAbsoluteRedirectUri(uri: string): boolean {
  try {
    const url = new URL(uri);
    // RFC 6749 section 3.1.2: absolute, no fragment.
    return url.hash === '' && !uri.includes('#') && url.protocol !== 'javascript:' && url.protocol !== 'data:';
  } catch {
    return false;
  }
}

export const clientDecider: Decider<ClientCommand, ClientState, ClientEvent> = {
  initialState: { registered: false, clientId: null, usesSecret: false, disabled: false, deleted: false, metadata: null },
  evolve: (state, event) => {
    switch (event.type) {
      case 'ClientRegistered':
      case 'ClientUpdated':
        return {
          ...state,
          registered: true,
          clientId: event.data.clientId,
          usesSecret: usesSecret(event.data),
          metadata: event.data,
        };
      case 'ClientDisabled':
        return { ...state, disabled: true };
      case 'ClientDeleted':
        return { ...state, deleted: true };
      case 'ClientSecretRotated':
        return state;
    }
  },
  decide(command, state) {
    switch (command.kind) {
      case 'RegisterClient':
        return register(command.client, state);
      case 'UpdateClient':
        return update(command.client, state);
      case 'RotateClientSecret':
        return rotateSecret(state);
      case 'DisableClient':
        return disable(state);
      case 'DeleteClient':
        return remove(command.reason, state);
    }
  },
};

const usesSecret = (client: ClientRegistered['data']) => ['client_secret_basic', 'client_secret_post'].includes(client.tokenEndpointAuthMethod);

function existing(state: ClientState): { clientId: string; metadata: ClientRegistered['data'] } {
  if (!state.registered || !state.clientId || !state.metadata || state.deleted) throw new InvalidRequest('no such client');
  return { clientId: state.clientId, metadata: state.metadata };
}

function register(client: ClientRegistered['data'], state: ClientState): ClientEvent[] {
  if (state.registered) throw new InvalidRequest(`client ${client.clientId} is already registered`);
  checkRegistration(client);
  return [{ type: 'ClientRegistered', data: client }];
}

/**
 * RFC 7592 section 2.2: the whole registration replaced, under the rules a new one meets.
 * Its credential stays of the kind it was (none, a secret, or keys): a client cannot
 * pick its own secret (section 2.2), and one registered openly as a public client must
 * not turn itself into one that needed an initial access token. How it was registered
 * stays as recorded, whatever the update says.
 */
function update(client: ClientRegistered['data'], state: ClientState): ClientEvent[] {
  const { clientId, metadata } = existing(state);
  if (state.disabled) throw new InvalidRequest(`client ${clientId} is disabled`);
  if (client.clientId !== clientId) throw new InvalidRequest('client_id must be the client\'s own');
  const credential = (c: ClientRegistered['data']) => (usesSecret(c) ? 'secret' : c.tokenEndpointAuthMethod);
  if (credential(client) !== credential(metadata) || client.clientType !== metadata.clientType) {
    throw new InvalidRequest(`token_endpoint_auth_method cannot change from ${metadata.tokenEndpointAuthMethod} to ${client.tokenEndpointAuthMethod}`);
  }
  const updated: ClientRegistered['data'] = { ...client };
  delete updated.dynamicRegistration;
  delete updated.initialAccessTokenId;
  if (metadata.dynamicRegistration) updated.dynamicRegistration = metadata.dynamicRegistration;
  if (metadata.initialAccessTokenId) updated.initialAccessTokenId = metadata.initialAccessTokenId;
  checkRegistration(updated);
  return [{ type: 'ClientUpdated', data: updated }];
}

function rotateSecret(state: ClientState): ClientEvent[] {
  const { clientId } = existing(state);
  if (state.disabled) throw new InvalidRequest(`client ${clientId} is disabled`);
  if (!state.usesSecret) throw new InvalidRequest(`client ${clientId} has no secret to rotate`);
  return [{ type: 'ClientSecretRotated', data: { clientId } }];
}

function disable(state: ClientState): ClientEvent[] {
  const { clientId } = existing(state);
  if (state.disabled) throw new InvalidRequest(`client ${clientId} is disabled`);
  return [{ type: 'ClientDisabled', data: { clientId } }];
}

/** A disabled client may still be deleted: the sweep of unused clients takes those too. */
function remove(reason: ClientDeleted['data']['reason'], state: ClientState): ClientEvent[] {
  const { clientId } = existing(state);
  return [{ type: 'ClientDeleted', data: { clientId, reason } }];
}

/** What every registration, and every update of one, must be. */
function checkRegistration(client: ClientRegistered['data']): void {
  if (!/^[A-Za-z0-9._~-]{1,100}$/.test(client.clientId)) throw new InvalidRequest('client_id must be 1-100 unreserved characters');
  if (client.grantTypes.includes('authorization_code') && client.redirectUris.length === 0) throw new InvalidRequest('a client of the authorization code grant needs at least one redirect URI');
  const bad = client.redirectUris.find((uri) => !isAbsoluteRedirectUri(uri));
  if (bad) throw new InvalidRequest(`redirect URI ${bad} is not an absolute URI without a fragment`);
  if ((client.clientType === 'public') !== (client.tokenEndpointAuthMethod === 'none')) {
    throw new InvalidRequest('public clients, and only they, authenticate with "none"');
  }
  // FAPI 2.0 Security Profile section 5.3.3.4: confidential clients, authenticated with private_key_jwt (or mTLS, not offered here).
  if (client.securityProfile === 'fapi2' && client.tokenEndpointAuthMethod !== 'private_key_jwt') throw new InvalidRequest('a FAPI 2.0 client authenticates with private_key_jwt');
  if (client.clientType === 'public' && client.grantTypes.includes('client_credentials')) {
    throw new InvalidRequest('a public client cannot use client_credentials: it cannot keep a secret');
  }
  if ((client.tokenEndpointAuthMethod === 'private_key_jwt') !== (client.jwks !== undefined && client.jwks.keys.length > 0)) {
    throw new InvalidRequest('private_key_jwt, and only it, needs the client\'s public keys (jwks)');
  }
  if (client.jwks?.keys.some((key) => 'd' in key || 'p' in key || 'k' in key)) throw new InvalidRequest('jwks must hold public keys only');
  // RFC 9068 section 5: a client's own tokens carry its client_id as `sub`, a user's their
  // user id, a UUID: a client_id of that shape could be taken for a user (and served their data).
  if (USER_ID_SHAPE.test(client.clientId)) throw new InvalidRequest('client_id must not have the shape of a user id (a UUID)');
  const badLogoutUri = [...(client.postLogoutRedirectUris ?? []), ...(client.backchannelLogoutUri !== undefined ? [client.backchannelLogoutUri] : [])].find((uri) => !isAbsoluteRedirectUri(uri));
  if (badLogoutUri !== undefined) throw new InvalidRequest(`logout URI ${badLogoutUri} is not an absolute URI without a fragment`);
  if (client.backchannelLogoutUri !== undefined && !/^https?:/.test(client.backchannelLogoutUri)) throw new InvalidRequest('backchannel_logout_uri must be http or https');
  if (client.introspectionAudiences !== undefined) {
    if (client.clientType !== 'confidential') throw new InvalidRequest('only a confidential client may introspect tokens');
    const bad = client.introspectionAudiences.find((audience) => !isAbsoluteRedirectUri(audience));
    if (bad !== undefined) throw new InvalidRequest(`introspection audience ${bad} is not an absolute URI`);
  }
  if (client.resources !== undefined && (client.resources.length === 0 || !client.resources.every(isResourceIndicator))) {
    throw new InvalidRequest('resources must be absolute http(s) URIs without query or fragment (RFC 8707 section 2)');
  }
}
