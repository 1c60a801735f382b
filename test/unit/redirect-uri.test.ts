import { matchesRegisteredRedirectUri } from '../../src/domain/redirect-uri.js';

describe('redirect URI matching', () => {
  const registered = ['https://app.example/cb', 'http://127.0.0.1/native', 'http://[::1]/v6?x=1'];

  it.each([
    ['the exact string', 'https://app.example/cb', 'confidential', true],
    ['a prefix of it', 'https://app.example/c', 'confidential', false],
    ['an added path', 'https://app.example/cb/more', 'confidential', false],
    ['an added query', 'https://app.example/cb?x=1', 'confidential', false],
    ['a trailing slash', 'https://app.example/cb/', 'confidential', false],
    ['another path case', 'https://app.example/CB', 'confidential', false],
    ['another host case', 'https://APP.example/cb', 'confidential', false],
    ['an added fragment', 'https://app.example/cb#x', 'confidential', false],
    ['http instead of https', 'http://app.example/cb', 'confidential', false],
    ['any port on a registered loopback IP, for a native client', 'http://127.0.0.1:53211/native', 'public', true],
    ['any port on a registered IPv6 loopback, same query', 'http://[::1]:8080/v6?x=1', 'public', true],
    ['a loopback port for a confidential client', 'http://127.0.0.1:53211/native', 'confidential', false],
    ['another path on the loopback', 'http://127.0.0.1:53211/other', 'public', false],
    ['another query on the loopback', 'http://[::1]:8080/v6?x=2', 'public', false],
    ['localhost instead of the IP', 'http://localhost:53211/native', 'public', false],
    ['port 0', 'http://127.0.0.1:0/native', 'public', false],
    ['a port out of range', 'http://127.0.0.1:70000/native', 'public', false],
    ['userinfo smuggled before the loopback', 'http://evil@127.0.0.1:1/native', 'public', false],
  ] as const)('%s: %s', (_what, requested, clientType, expected) => {
    expect(matchesRegisteredRedirectUri(registered, requested, clientType)).toBe(expected);
  });

  it('gives no loopback exception to a client that registered no loopback URI', () => {
    expect(matchesRegisteredRedirectUri(['https://app.example/cb'], 'http://127.0.0.1:5000/cb', 'public')).toBe(false);
  });
});
