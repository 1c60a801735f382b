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

  it('shows nothing of what it holds: not the session, the user, the client or its state', () => {
    for (const sealed of [beforeSignIn, afterSignIn]) {
      const bytes = Buffer.from(sealed, 'base64url').toString('latin1');
      // Words of five characters or more: a shorter one turns up in random bytes now and then.
      for (const secret of [session, request.browserSessionHash, signedIn!.signInSessionId!, 'alice', 'a state', 'profile', request.grantId]) {
        expect(sealed).not.toContain(secret);
        expect(bytes).not.toContain(secret);
      }
    }
    // Sealed twice, it reads differently: nothing about the request can be told from two links.
    expect(sealHeldAuthorization(key, session, { request })).not.toBe(beforeSignIn);
  });

  it('opens for no other browser, under no other key, and not once changed: nobody can claim a sign-in', () => {
    expect(openHeldAuthorization(key, 'another-browser-session-cookie-value-000000', afterSignIn)).toBeUndefined();
    expect(openHeldAuthorization(Buffer.alloc(32, 8), session, afterSignIn)).toBeUndefined();
    const bytes = Buffer.from(beforeSignIn, 'base64url');
    for (const at of [0, 12, bytes.length - 17, bytes.length - 1]) {
      const changed = Buffer.from(bytes);
      changed[at] ^= 1;
      expect(openHeldAuthorization(key, session, changed.toString('base64url'))).toBeUndefined();
    }
  });

  it.each([
    ['nothing', undefined],
    ['an empty value', ''],
    ['a word', 'nope'],
    ['a grant id', '0193a5a0-0000-7000-8000-000000000001'],
    ['a value too long to be one', 'a'.repeat(9000)],
    ['a value too short to be one', 'a'.repeat(39)],
    ['a value of the right shape from nowhere', 'a'.repeat(200)],
    ['three parts', 'a.b.c'],
  ])('opens nothing from %s', (_what, value) => {
    expect(openHeldAuthorization(key, session, value)).toBeUndefined();
  });
});
