import type { Decider } from './decider.js';
import type { ClientEvent, ClientRegistered } from './events.js';
import { InvalidRequest } from './oauth-errors.js';

export type ClientCommand =
  | { kind: 'RegisterClient'; client: ClientRegistered['data'] }
  | { kind: 'RotateClientSecret' }
  | { kind: 'DisableClient' };
export type ClientState = { registered: boolean; clientId: string | null; usesSecret: boolean; disabled: boolean };

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
  initialState: { registered: false, clientId: null, usesSecret: false, disabled: false },
  evolve: (state, event) => {
    switch (event.type) {
      case 'ClientRegistered':
        return {
          registered: true,
          clientId: event.data.clientId,
          usesSecret: ['client_secret_basic', 'client_secret_post'].includes(event.data.tokenEndpointAuthMethod),
          disabled: false,
        };
      case 'ClientDisabled':
        return { ...state, disabled: true };
      case 'ClientSecretRotated':
        return state;
    }
  },
  decide(command, state) {
    if (command.kind !== 'RegisterClient') {
      if (!state.registered || !state.clientId) throw new InvalidRequest('no such client');
      if (state.disabled) throw new InvalidRequest(`client ${state.clientId} is disabled`);
      if (command.kind === 'DisableClient') return [{ type: 'ClientDisabled', data: { clientId: state.clientId } }];
      if (!state.usesSecret) throw new InvalidRequest(`client ${state.clientId} has no secret to rotate`);
      return [{ type: 'ClientSecretRotated', data: { clientId: state.clientId } }];
    }
    const { client } = command;
    if (state.registered) throw new InvalidRequest(`client ${client.clientId} is already registered`);
    if (!/^[A-Za-z0-9._~-]{1,100}$/.test(client.clientId)) throw new InvalidRequest('client_id must be 1-100 unreserved characters');
    if (client.redirectUris.length === 0) throw new InvalidRequest('a client needs at least one redirect URI');
    const bad = client.redirectUris.find((uri) => !isAbsoluteRedirectUri(uri));
    if (bad) throw new InvalidRequest(`redirect URI ${bad} is not an absolute URI without a fragment`);
    if ((client.clientType === 'public') !== (client.tokenEndpointAuthMethod === 'none')) {
      throw new InvalidRequest('public clients, and only they, authenticate with "none"');
    }
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
    return [{ type: 'ClientRegistered', data: client }];
  },
};
