import { clientDecider } from '../../src/domain/client.js';
import { mayRegisterOpenly, parseClientMetadata, redirectUriKind } from '../../src/domain/client-metadata.js';
import type { ClientRegistered } from '../../src/domain/events.js';
import { GrantTypeSchema } from '../../src/domain/events/event-schema.js';
import { InvalidClientMetadata, InvalidRedirectUri, InvalidRequest } from '../../src/domain/oauth-errors.js';
import { countedAs } from '../../src/http/client-address.js';
import { given } from '../support/given-when-then.js';

const agent: ClientRegistered['data'] = {
  clientId: 'Zm9vYmFyYmF6cXV4cXV1eA', name: 'Agent', clientType: 'public', redirectUris: ['http://127.0.0.1/cb'], scopes: ['profile'],
  tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'], dynamicRegistration: 'open',
};
const registered = { type: 'ClientRegistered' as const, data: agent };
const deleted = { type: 'ClientDeleted' as const, data: { clientId: agent.clientId, reason: 'client_request' as const } };

describe('client decider: updates and deletions (RFC 7592)', () => {
  it('records the whole new registration, keeping how the client registered', () => {
    const update = { ...agent, redirectUris: ['com.example.agent:/cb'] };
    delete update.dynamicRegistration;
    given(clientDecider, [registered]).when({ kind: 'UpdateClient', client: update }).then([{ type: 'ClientUpdated', data: { ...update, dynamicRegistration: 'open' } }]);
  });
  it('refuses an update that claims another way of registering: it stays as recorded', () => {
    const sneaky = { ...agent, dynamicRegistration: 'initial-access-token' as const, initialAccessTokenId: 'made-up' };
    given(clientDecider, [registered]).when({ kind: 'UpdateClient', client: sneaky }).then([{ type: 'ClientUpdated', data: agent }]);
  });
  it.each([
    ['a public client turning confidential', { clientType: 'confidential' as const, tokenEndpointAuthMethod: 'client_secret_basic' as const }, /cannot change/],
    ['a relative redirect URI', { redirectUris: ['/cb'] }, /not an absolute URI/],
    ['another client\'s id', { clientId: 'someone-else' }, /client's own/],
  ])('refuses %s', (_what, override, message) => {
    given(clientDecider, [registered]).when({ kind: 'UpdateClient', client: { ...agent, ...override } }).thenRefuses(InvalidRequest, message);
  });
  it('lets a secret-using client move between basic and post, never to keys', () => {
    const confidential = { ...agent, clientType: 'confidential' as const, tokenEndpointAuthMethod: 'client_secret_basic' as const };
    const history = [{ type: 'ClientRegistered' as const, data: confidential }];
    given(clientDecider, history).when({ kind: 'UpdateClient', client: { ...confidential, tokenEndpointAuthMethod: 'client_secret_post' } })
      .then([{ type: 'ClientUpdated', data: { ...confidential, tokenEndpointAuthMethod: 'client_secret_post' } }]);
    const keys = { ...confidential, tokenEndpointAuthMethod: 'private_key_jwt' as const, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] } };
    given(clientDecider, history).when({ kind: 'UpdateClient', client: keys }).thenRefuses(InvalidRequest, /cannot change/);
  });
  it('deletes a client once; a deleted client is no more, for any command', () => {
    given(clientDecider, [registered]).when({ kind: 'DeleteClient', reason: 'client_request' }).then([deleted]);
    given(clientDecider, [registered, { type: 'ClientDisabled', data: { clientId: agent.clientId } }]).when({ kind: 'DeleteClient', reason: 'unused' })
      .then([{ type: 'ClientDeleted', data: { clientId: agent.clientId, reason: 'unused' } }]);
    for (const command of [{ kind: 'DeleteClient', reason: 'unused' }, { kind: 'UpdateClient', client: agent }, { kind: 'DisableClient' }] as const) {
      given(clientDecider, [registered, deleted]).when(command).thenRefuses(InvalidRequest, /no such client/);
    }
    given(clientDecider, [registered, deleted]).when({ kind: 'RegisterClient', client: agent }).thenRefuses(InvalidRequest, /already registered/);
    given(clientDecider, []).when({ kind: 'DeleteClient', reason: 'client_request' }).thenRefuses(InvalidRequest, /no such client/);
  });
  it('registers a client of no code grant without redirect URIs', () => {
    const machine = { ...agent, clientType: 'confidential' as const, tokenEndpointAuthMethod: 'client_secret_basic' as const, grantTypes: ['client_credentials' as const], redirectUris: [] };
    given(clientDecider, []).when({ kind: 'RegisterClient', client: machine }).then([{ type: 'ClientRegistered', data: machine }]);
  });
});

describe('client metadata (RFC 7591 section 2)', () => {
  const offer = { scopes: ['openid', 'profile', 'items:read'] };
  const native = { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' };

  it('reads a native app\'s metadata with the RFC\'s defaults, ignoring unknown members and contacts', () => {
    expect(parseClientMetadata({ ...native, contacts: ['a@example.com'], made_up: 1 }, offer)).toEqual({
      name: 'Unnamed application', clientType: 'public', redirectUris: ['http://127.0.0.1/cb'], scopes: offer.scopes, tokenEndpointAuthMethod: 'none', grantTypes: ['authorization_code'],
    });
    expect(parseClientMetadata({ redirect_uris: ['https://app.example/cb'] }, offer)).toMatchObject({ clientType: 'confidential', tokenEndpointAuthMethod: 'client_secret_basic' });
    // Members sent as null, and an empty scope, as some client libraries send them: not sent.
    expect(parseClientMetadata({ ...native, scope: '', logo_uri: null, jwks: null, client_name: null }, offer)).toMatchObject({ scopes: offer.scopes, name: 'Unnamed application' });
  });

  it.each([
    ['https://app.example/cb', 'https'],
    ['http://127.0.0.1:8080/cb', 'loopback'],
    ['http://[::1]/cb', 'loopback'],
    ['http://localhost:6274/oauth/callback', 'loopback'],
    ['com.example.app:/oauth2redirect', 'private-use'],
  ])('takes %s as a %s redirect URI', (uri, kind) => {
    expect(redirectUriKind(uri)).toBe(kind);
  });

  it.each(['http://localhost.app.example/cb', 'http://app.example/cb', 'myapp:/cb', 'https://app.example/cb#f', 'https://user:pw@app.example/cb', 'relative/cb', `https://app.example/${'x'.repeat(2000)}`])(
    'refuses the redirect URI %s',
    (uri) => {
      expect(() => redirectUriKind(uri)).toThrow(InvalidRedirectUri);
    },
  );

  it.each<[string, unknown]>([
    ['a body that is not an object', []],
    ['redirect_uris that are not strings', { ...native, redirect_uris: [1] }],
    ['refresh_token alone', { ...native, grant_types: ['refresh_token'] }],
    ['the code grant without response type code', { ...native, response_types: [] }],
    ['response type code without the code grant', { ...native, grant_types: ['client_credentials'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    ['jwks for a secret', { redirect_uris: native.redirect_uris, jwks: { keys: [{ kty: 'EC' }] } }],
    ['a symmetric key in jwks', { ...native, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }],
    ['a malformed scope', { ...native, scope: 'profile "quoted"' }],
    ['a logo over plain http', { ...native, logo_uri: 'http://app.example/logo.png' }],
    ['an unknown ID token algorithm', { ...native, id_token_signed_response_alg: 'none' }],
  ])('refuses %s as invalid_client_metadata', (_what, body) => {
    expect(() => parseClientMetadata(body, offer)).toThrow(InvalidClientMetadata);
  });

  it('takes the device grant exactly when the events can record it', () => {
    const device = 'urn:ietf:params:oauth:grant-type:device_code';
    const asked = () => parseClientMetadata({ grant_types: [device, 'refresh_token'], token_endpoint_auth_method: 'none' }, offer).grantTypes;
    if (GrantTypeSchema.anyOf.some((schema) => String(schema.const) === device)) expect(asked()).toEqual([device, 'refresh_token']);
    else expect(asked).toThrow(InvalidClientMetadata);
  });

  it('lets only public apps redirecting to themselves register openly', () => {
    expect(mayRegisterOpenly(parseClientMetadata(native, offer))).toBe(true);
    expect(mayRegisterOpenly(parseClientMetadata({ ...native, redirect_uris: ['com.example.app:/cb'] }, offer))).toBe(true);
    expect(mayRegisterOpenly(parseClientMetadata({ ...native, redirect_uris: ['https://app.example/cb'] }, offer))).toBe(false);
    expect(mayRegisterOpenly(parseClientMetadata({ redirect_uris: native.redirect_uris }, offer))).toBe(false);
  });
});

describe('open registrations counted by address', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('counts %s as %s', (address, key) => {
    expect(countedAs(address)).toBe(key);
  });
});
