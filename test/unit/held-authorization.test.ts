import { sha256 } from '../../src/domain/crypto.js';
import type { HeldAuthorization } from '../../src/domain/grant.js';
import { openHeldAuthorization, sealHeldAuthorization } from '../../src/gateway/held-authorization.js';

const key = Buffer.alloc(32, 7);
const session = 'the-browser-session-cookie-value-0123456789';
const request: HeldAuthorization['request'] = {
  grantId: '0193a5a0-0000-7000-8000-000000000001', clientId: 'web', redirectUri: 'https://app.example/cb', redirectUriSent: true,
  scopes: ['profile'], state: 'a state with spaces & "quotes"', codeChallenge: sha256('verifier'), codeChallengeMethod: 'S256',
  browserSessionHash: sha256(session), expiresAt: '2026-11-22T10:10:00.000Z',
};
const signedIn: HeldAuthorization['signedIn'] = { userId: 'u1', username: 'alice', method: 'password', signInSessionId: sha256('sign-in cookie') };

describe('an authorization held by the browser', () => {
  const beforeSignIn = sealHeldAuthorization(key, session, { request });
  const afterSignIn = sealHeldAuthorization(key, session, { request, signedIn });

  it('opens as it was, in the browser it was made for, before and after the sign-in', () => {
    expect(openHeldAuthorization(key, session, beforeSignIn)).toEqual({ request });
    expect(openHeldAuthorization(key, session, afterSignIn)).toEqual({ request, signedIn });
  });

  it('does not carry the browser session or its hash', () => {
    for (const sealed of [beforeSignIn, afterSignIn]) {
      expect(sealed).not.toContain(session);
      expect(Buffer.from(sealed.split('.')[0], 'base64url').toString()).not.toContain(request.browserSessionHash);
    }
  });

  it('opens for no other browser, under no other key, and not once changed: nobody can claim a sign-in', () => {
    expect(openHeldAuthorization(key, 'another-browser-session-cookie-value-000000', afterSignIn)).toBeUndefined();
    expect(openHeldAuthorization(Buffer.alloc(32, 8), session, afterSignIn)).toBeUndefined();
    const [payload, tag] = beforeSignIn.split('.');
    const claimed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), signedIn })).toString('base64url');
    expect(openHeldAuthorization(key, session, `${claimed}.${tag}`)).toBeUndefined();
  });

  it.each([
    ['nothing', undefined],
    ['an empty value', ''],
    ['a word', 'nope'],
    ['a grant id', '0193a5a0-0000-7000-8000-000000000001'],
    ['a value too long to be one', `${'a'.repeat(9000)}.${'b'.repeat(43)}`],
    ['three parts', 'a.b.c'],
  ])('opens nothing from %s', (_what, value) => {
    expect(openHeldAuthorization(key, session, value)).toBeUndefined();
  });
});
