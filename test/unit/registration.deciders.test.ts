import { clientDecider } from '../../src/domain/client.js';
import type { ClientRegistered } from '../../src/domain/events.js';
import { InvalidRequest } from '../../src/domain/oauth-errors.js';
import { signingKeyDecider } from '../../src/domain/signing-key.js';
import { userDecider } from '../../src/domain/user.js';
import { given } from '../support/given-when-then.js';

const client: ClientRegistered['data'] = {
  clientId: 'app', name: 'App', clientType: 'confidential', redirectUris: ['https://app.example/cb'], scopes: ['profile'],
  tokenEndpointAuthMethod: 'client_secret_basic', grantTypes: ['authorization_code'],
};
const registered = { type: 'ClientRegistered' as const, data: client };

describe('client decider', () => {
  it('registers a new client', () => {
    given(clientDecider, []).when({ kind: 'RegisterClient', client }).then([registered]);
  });
  it('refuses a client id that exists', () => {
    given(clientDecider, [registered]).when({ kind: 'RegisterClient', client }).thenRefuses(InvalidRequest, /already registered/);
  });
  it.each([
    ['a relative redirect URI', { redirectUris: ['/cb'] }, /not an absolute URI/],
    ['a redirect URI with a fragment', { redirectUris: ['https://app.example/cb#x'] }, /without a fragment/],
    ['no redirect URI', { redirectUris: [] }, /at least one redirect URI/],
    ['a public client with a secret method', { clientType: 'public' as const }, /public clients, and only they/],
    ['a confidential client without authentication', { tokenEndpointAuthMethod: 'none' as const }, /public clients, and only they/],
    ['a client id with spaces', { clientId: 'my app' }, /client_id must be/],
  ])('refuses %s', (_what, override, message) => {
    given(clientDecider, []).when({ kind: 'RegisterClient', client: { ...client, ...override } }).thenRefuses(InvalidRequest, message);
  });
});

describe('client decider: secrets and disabling', () => {
  it('rotates the secret of a secret-using client, never of a public one', () => {
    given(clientDecider, [registered]).when({ kind: 'RotateClientSecret' }).then([{ type: 'ClientSecretRotated', data: { clientId: 'app' } }]);
    const publicClient = { type: 'ClientRegistered' as const, data: { ...client, clientType: 'public' as const, tokenEndpointAuthMethod: 'none' as const } };
    given(clientDecider, [publicClient]).when({ kind: 'RotateClientSecret' }).thenRefuses(InvalidRequest, /no secret to rotate/);
    given(clientDecider, []).when({ kind: 'RotateClientSecret' }).thenRefuses(InvalidRequest, /no such client/);
  });
  it('disables a client once; a disabled client changes no more', () => {
    const disabled = { type: 'ClientDisabled' as const, data: { clientId: 'app' } };
    given(clientDecider, [registered]).when({ kind: 'DisableClient' }).then([disabled]);
    given(clientDecider, [registered, disabled]).when({ kind: 'DisableClient' }).thenRefuses(InvalidRequest, /disabled/);
    given(clientDecider, [registered, disabled]).when({ kind: 'RotateClientSecret' }).thenRefuses(InvalidRequest, /disabled/);
  });
});

describe('user decider', () => {
  const user = { userId: 'u1', username: 'alice', name: 'Alice', email: null };
  it('registers a user once', () => {
    given(userDecider, []).when({ kind: 'RegisterUser', user }).then([{ type: 'UserRegistered', data: user }]);
    given(userDecider, [{ type: 'UserRegistered', data: user }]).when({ kind: 'RegisterUser', user }).thenRefuses(InvalidRequest, /already exists/);
  });
  it('disables a user once', () => {
    const user = { userId: 'u1', username: 'alice', name: 'Alice', email: null };
    given(userDecider, [{ type: 'UserRegistered', data: user }]).when({ kind: 'DisableUser' }).then([{ type: 'UserDisabled', data: { userId: 'u1', username: 'alice' } }]);
    given(userDecider, [{ type: 'UserRegistered', data: user }, { type: 'UserDisabled', data: { userId: 'u1', username: 'alice' } }]).when({ kind: 'DisableUser' }).thenRefuses(InvalidRequest);
    given(userDecider, []).when({ kind: 'DisableUser' }).thenRefuses(InvalidRequest, /no such user/);
  });

  it('refuses a username with spaces', () => {
    given(userDecider, []).when({ kind: 'RegisterUser', user: { ...user, username: 'al ice' } }).thenRefuses(InvalidRequest);
  });
});

describe('client decider, grants and keys', () => {
  it('refuses client_credentials for a public client', () => {
    given(clientDecider, []).when({ kind: 'RegisterClient', client: { ...client, clientType: 'public', tokenEndpointAuthMethod: 'none', grantTypes: ['client_credentials'] } })
      .thenRefuses(InvalidRequest, /public client cannot use client_credentials/);
  });
  it('needs public keys for private_key_jwt, and only public ones', () => {
    const pk = { ...client, tokenEndpointAuthMethod: 'private_key_jwt' as const };
    given(clientDecider, []).when({ kind: 'RegisterClient', client: pk }).thenRefuses(InvalidRequest, /needs the client's public keys/);
    given(clientDecider, []).when({ kind: 'RegisterClient', client: { ...pk, jwks: { keys: [{ kty: 'EC', d: 'secret' }] } } }).thenRefuses(InvalidRequest, /public keys only/);
    given(clientDecider, []).when({ kind: 'RegisterClient', client: { ...pk, jwks: { keys: [{ kty: 'EC', x: 'x', y: 'y', crv: 'P-256' }] } } })
      .then([{ type: 'ClientRegistered', data: { ...pk, jwks: { keys: [{ kty: 'EC', x: 'x', y: 'y', crv: 'P-256' }] } } }]);
  });
});

describe('signing key decider', () => {
  const key = { kid: 'k1', alg: 'ES256' as const, publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } };
  const generated = { type: 'SigningKeyGenerated' as const, data: key };
  it('publishes a key, then activates it', () => {
    given(signingKeyDecider, []).when({ kind: 'GenerateSigningKey', key }).then([generated]);
    given(signingKeyDecider, [generated]).when({ kind: 'ActivateSigningKey' }).then([{ type: 'SigningKeyActivated', data: { kid: 'k1' } }]);
  });
  it('never records a private key', () => {
    given(signingKeyDecider, []).when({ kind: 'GenerateSigningKey', key: { ...key, publicJwk: { ...key.publicJwk, d: 'secret' } } }).thenRefuses(InvalidRequest, /private key/);
  });
  it('activates only a published key, once', () => {
    given(signingKeyDecider, []).when({ kind: 'ActivateSigningKey' }).thenRefuses(InvalidRequest);
    given(signingKeyDecider, [generated, { type: 'SigningKeyActivated', data: { kid: 'k1' } }]).when({ kind: 'ActivateSigningKey' }).thenRefuses(InvalidRequest);
  });

  it('supersedes only the active key, and retires only a superseded one', () => {
    const activated = { type: 'SigningKeyActivated' as const, data: { kid: 'k1' } };
    const rotated = { type: 'SigningKeyRotated' as const, data: { kid: 'k1', supersededBy: 'k2', retireAfter: '2026-11-22T12:00:00.000Z' } };
    given(signingKeyDecider, [generated]).when({ kind: 'SupersedeSigningKey', supersededBy: 'k2', retireAfter: rotated.data.retireAfter }).thenRefuses(InvalidRequest);
    given(signingKeyDecider, [generated, activated]).when({ kind: 'SupersedeSigningKey', supersededBy: 'k2', retireAfter: rotated.data.retireAfter }).then([rotated]);
    given(signingKeyDecider, [generated, activated]).when({ kind: 'RetireSigningKey' }).thenRefuses(InvalidRequest);
    given(signingKeyDecider, [generated, activated, rotated]).when({ kind: 'RetireSigningKey' }).then([{ type: 'SigningKeyRetired', data: { kid: 'k1' } }]);
  });
});
