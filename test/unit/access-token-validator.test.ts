import { randomUUID } from 'node:crypto';
import { MemoryProjectionStore } from '../../projections/projection-store.js';
import { InvalidToken } from '../../src/domain/oauth-errors.js';
import { AccessTokenValidator } from '../../src/keys/access-token-validator.js';
import { AccessTokenSigner, generateSigningKey } from '../../src/keys/signing-keys.js';
import { ProjectedReadModel } from '../../src/system/projected-read-model.js';

/** The validator reads the projections through the read port, as both servers give it. */
const readModelOf = (store: MemoryProjectionStore) => new ProjectedReadModel(store, { waitFor: async () => {} });

describe('access token validation, with its cache of verified tokens', () => {
  const issuer = 'https://as.example';
  const audience = 'https://rs.example';
  let store: MemoryProjectionStore;
  let signer: AccessTokenSigner;
  let kid: string;
  let position = 0;
  const put = (projection: string, key: string, value: unknown) => store.apply(projection, new Map([[key, value]]), ++position);

  beforeEach(async () => {
    store = new MemoryProjectionStore();
    const key = await generateSigningKey();
    kid = key.kid;
    signer = new AccessTokenSigner(async () => key.privateJwk);
    put('signing-keys', kid, { kid, alg: 'ES256', publicJwk: key.publicJwk, status: 'active', activateAfter: null, activatedAt: null, retireAfter: null });
  });
  afterEach(() => jest.useRealTimers());

  const token = (ttlSeconds: number) => {
    const now = Math.floor(Date.now() / 1000);
    const grantId = randomUUID();
    return signer.sign({ iss: issuer, aud: audience, sub: 'u', client_id: 'c', scope: 'profile', jti: `${grantId}.x`, iat: now, exp: now + ttlSeconds }, kid);
  };

  it('still refuses a cached token once it expired, past the clock skew', async () => {
    const validator = new AccessTokenValidator(readModelOf(store), issuer, audience, 30);
    const jwt = await token(60);
    await expect(validator.validate(`Bearer ${jwt}`)).resolves.toMatchObject({ sub: 'u', scopes: ['profile'] });
    jest.useFakeTimers({ now: Date.now() + 85_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    await expect(validator.validate(`Bearer ${jwt}`)).resolves.toMatchObject({ sub: 'u' }); // within 60 s + 30 s skew
    jest.setSystemTime(Date.now() + 10_000);
    await expect(validator.validate(`Bearer ${jwt}`)).rejects.toBeInstanceOf(InvalidToken);
  });

  it('still refuses a cached token once it, or its grant, was revoked, or its key retired', async () => {
    const validator = new AccessTokenValidator(readModelOf(store), issuer, audience);
    const jwts = [await token(600), await token(600), await token(600)];
    for (const jwt of jwts) await validator.validate(`Bearer ${jwt}`);
    const jtiOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).jti as string;
    put('token-status', `at:${jtiOf(jwts[0])}`, { grantId: 'g', clientId: 'c', userId: 'u', expiresAt: '', active: false });
    await expect(validator.validate(`Bearer ${jwts[0]}`)).rejects.toThrow('revoked');
    put('token-status', `grant:${jtiOf(jwts[1]).split('.')[0]}`, { revoked: true, reason: 'revoked_by_user', revokedAt: '' });
    await expect(validator.validate(`Bearer ${jwts[1]}`)).rejects.toThrow('revoked');
    await expect(validator.validate(`Bearer ${jwts[2]}`)).resolves.toMatchObject({ sub: 'u' });
    put('signing-keys', kid, { ...(store.get('signing-keys', kid) as object), status: 'retired' });
    await expect(validator.validate(`Bearer ${jwts[2]}`)).rejects.toThrow('unknown key');
  });

  it.each([
    ['its user is disabled (users projection)', 'users', 'id:u', { userId: 'u', username: 'u', name: 'U', email: null, disabled: true }],
    ['its client is disabled (clients projection, at the authorization server)', 'clients', 'c', { clientId: 'c', disabled: true }],
    ['its client is disabled (token-status, at the resource server)', 'token-status', 'client:c', { disabled: true, disabledAt: '' }],
  ])('refuses a token, cached or not, once %s', async (_, projection, key, doc) => {
    const validator = new AccessTokenValidator(readModelOf(store), issuer, audience);
    const jwt = await token(600);
    await expect(validator.validate(`Bearer ${jwt}`)).resolves.toMatchObject({ sub: 'u' });
    put(projection, key, doc);
    await expect(validator.validate(`Bearer ${jwt}`)).rejects.toThrow('disabled');
    await expect(new AccessTokenValidator(readModelOf(store), issuer, audience).validate(`Bearer ${jwt}`)).rejects.toBeInstanceOf(InvalidToken);
  });

  it('keeps at most its size of verified tokens', async () => {
    const validator = new AccessTokenValidator(readModelOf(store), issuer, audience, 30, 2);
    const jwts = [await token(600), await token(600), await token(600)];
    for (const jwt of jwts) await validator.validate(`Bearer ${jwt}`);
    expect((validator as unknown as { verified: Map<string, unknown> }).verified.size).toBe(2);
  });
});
