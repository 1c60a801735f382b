import { sha256 } from '../../src/domain/crypto.js';
import { tokenAudience } from '../../src/domain/grant/grant-events.js';
import { InvalidRequest, InvalidTarget } from '../../src/domain/oauth-errors.js';
import { resourceServerDecider } from '../../src/domain/resource-server.js';
import { requestedResources } from '../../src/grants/resource-indicators.js';
import { given } from '../support/given-when-then.js';

const uri = 'https://api.example/mcp';
const registered = { type: 'ResourceServerRegistered' as const, data: { resourceServerId: sha256(uri), uri, name: 'API', scopes: ['items:read'] } };

describe('resource server decider', () => {
  it('registers a resource server under a stream named after its URI', () => {
    given(resourceServerDecider, []).when({ kind: 'RegisterResourceServer', resourceServer: { uri, name: 'API', scopes: ['items:read'] } }).then([registered]);
  });
  it.each([
    ['a relative URI', '/api', /absolute/],
    ['a fragment', `${uri}#x`, /without query or fragment/],
    ['a query', `${uri}?tenant=1`, /without query or fragment/],
    ['another scheme', 'urn:example:api', /http\(s\)/],
  ])('refuses a URI with %s', (_what, bad, message) => {
    given(resourceServerDecider, []).when({ kind: 'RegisterResourceServer', resourceServer: { uri: bad, name: 'API', scopes: ['items:read'] } }).thenRefuses(InvalidRequest, message);
  });
  it('refuses one already registered, one without scopes or name', () => {
    given(resourceServerDecider, [registered]).when({ kind: 'RegisterResourceServer', resourceServer: { uri, name: 'API', scopes: ['items:read'] } }).thenRefuses(InvalidRequest, /already registered/);
    given(resourceServerDecider, []).when({ kind: 'RegisterResourceServer', resourceServer: { uri, name: 'API', scopes: [] } }).thenRefuses(InvalidRequest, /scope/);
    given(resourceServerDecider, []).when({ kind: 'RegisterResourceServer', resourceServer: { uri, name: ' ', scopes: ['a'] } }).thenRefuses(InvalidRequest, /name/);
  });
  it('disables a registered one, once', () => {
    const disabled = { type: 'ResourceServerDisabled' as const, data: { resourceServerId: sha256(uri), uri } };
    given(resourceServerDecider, [registered]).when({ kind: 'DisableResourceServer' }).then([disabled]);
    given(resourceServerDecider, [registered, disabled]).when({ kind: 'DisableResourceServer' }).thenRefuses(InvalidRequest, /already disabled/);
    given(resourceServerDecider, []).when({ kind: 'DisableResourceServer' }).thenRefuses(InvalidRequest, /no such/);
  });
});

describe('a token\'s audience (RFC 8707 section 2.2)', () => {
  const a = 'https://a.example';
  const b = 'https://b.example';
  it('is every resource granted when none is asked, one as a string, several as an array', () => {
    expect(tokenAudience([a], undefined, 'https://default')).toBe(a);
    expect(tokenAudience([a, b], undefined, 'https://default')).toEqual([a, b]);
  });
  it('narrows to those asked, never beyond the grant', () => {
    expect(tokenAudience([a, b], [b], 'https://default')).toBe(b);
    expect(() => tokenAudience([a], [b], 'https://default')).toThrow(InvalidTarget);
  });
  it('is the default for a grant from before resource indicators, and only the default', () => {
    expect(tokenAudience(undefined, undefined, a)).toBe(a);
    expect(() => tokenAudience(undefined, [b], a)).toThrow(InvalidTarget);
  });
});

describe('resource parameters', () => {
  it('are absolute http(s) URIs without fragment or query, at most ten, duplicates once', () => {
    expect(requestedResources([])).toBeUndefined();
    expect(requestedResources([uri, uri])).toEqual([uri]);
    for (const bad of ['', 'api', `${uri}#f`, `${uri}?q`, 'ftp://x.example']) expect(() => requestedResources([bad])).toThrow(InvalidTarget);
    expect(() => requestedResources(Array.from({ length: 11 }, (_, i) => `${uri}/${i}`))).toThrow(InvalidTarget);
  });
});
