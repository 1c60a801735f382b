import { sha256 } from '../../src/domain/crypto.js';
import type { AuthorizationRequested } from '../../src/domain/events.js';
import { openAuthorizationRequest, sealAuthorizationRequest } from '../../src/gateway/pending-authorization-request.js';

const key = Buffer.alloc(32, 7);
const session = 'the-browser-session-cookie-value-0123456789';
const request: AuthorizationRequested['data'] = {
  grantId: '0193a5a0-0000-7000-8000-000000000001', clientId: 'web', redirectUri: 'https://app.example/cb', redirectUriSent: true,
  scopes: ['profile'], state: 'a state with spaces & "quotes"', codeChallenge: sha256('verifier'), codeChallengeMethod: 'S256',
  browserSessionHash: sha256(session), expiresAt: '2026-11-22T10:10:00.000Z',
};

describe('an authorization request held by the browser', () => {
  const sealed = sealAuthorizationRequest(key, session, request);

  it('opens as the request it was, in the browser it was made for', () => {
    expect(openAuthorizationRequest(key, session, sealed)).toEqual(request);
  });

  it('does not carry the browser session or its hash', () => {
    expect(sealed).not.toContain(session);
    expect(Buffer.from(sealed.split('.')[0], 'base64url').toString()).not.toContain(request.browserSessionHash);
  });

  it('opens for no other browser, under no other key, and not once changed', () => {
    expect(openAuthorizationRequest(key, 'another-browser-session-cookie-value-000000', sealed)).toBeUndefined();
    expect(openAuthorizationRequest(Buffer.alloc(32, 8), session, sealed)).toBeUndefined();
    const [payload, tag] = sealed.split('.');
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scopes: ['profile', 'admin'] })).toString('base64url');
    expect(openAuthorizationRequest(key, session, `${widened}.${tag}`)).toBeUndefined();
  });

  it.each([undefined, '', 'nope', '0193a5a0-0000-7000-8000-000000000001', `${'a'.repeat(9000)}.${'b'.repeat(43)}`, 'a.b.c'])(
    'opens nothing from %p',
    (value) => {
      expect(openAuthorizationRequest(key, session, value)).toBeUndefined();
    },
  );
});
