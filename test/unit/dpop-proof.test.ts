import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type GenerateKeyPairResult, type JWK } from 'jose';
import { sha256 } from '../../src/domain/crypto.js';
import { checkProof, dpopProofDecider, DPOP_IAT_WINDOW_SECONDS } from '../../src/domain/dpop-proof.js';
import { InvalidDpopProof, UseDpopNonce } from '../../src/domain/oauth-errors.js';
import { DPoPNonces } from '../../src/keys/dpop-nonces.js';
import { readDPoPProof } from '../../src/keys/dpop-proof-reader.js';
import { PresentationProofs } from '../../src/keys/dpop-presentation.js';
import { given } from '../support/given-when-then.js';

const now = () => Math.floor(Date.now() / 1000);
let keys: GenerateKeyPairResult;
let publicJwk: JWK;

beforeAll(async () => {
  keys = await generateKeyPair('ES256', { extractable: true });
  publicJwk = await exportJWK(keys.publicKey);
});

async function proof(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: CryptoKey = keys.privateKey) {
  return new SignJWT({ htm: 'POST', htu: 'https://as.example/token', jti: crypto.randomUUID(), iat: now(), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk, ...header })
    .sign(key);
}

describe('reading a DPoP proof (RFC 9449 section 4.3)', () => {
  it('gives the key\'s thumbprint and the claims', async () => {
    const read = readDPoPProof(await proof({ jti: 'j1' }));
    expect(read).toMatchObject({ jkt: await calculateJwkThumbprint(publicJwk, 'sha256'), jti: 'j1', htm: 'POST', htu: 'https://as.example/token' });
  });

  it.each([['ES384', { namedCurve: 'P-384' }], ['PS256', {}], ['RS256', {}], ['EdDSA', { crv: 'Ed25519' }]] as const)('verifies %s proofs, with the thumbprint jose computes', async (alg, options) => {
    const pair = await generateKeyPair(alg, options as Record<string, string>);
    const jwk = await exportJWK(pair.publicKey);
    const signed = await new SignJWT({ htm: 'POST', htu: 'https://as.example/token', jti: 'j', iat: now() }).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk }).sign(pair.privateKey);
    expect(readDPoPProof(signed).jkt).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
    // The same key named with another algorithm does not verify.
    const [h, p, sig] = signed.split('.');
    const relabelled = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: alg === 'RS256' ? 'PS256' : 'RS256' })).toString('base64url')}.${p}.${sig}`;
    expect(() => readDPoPProof(relabelled)).toThrow(InvalidDpopProof);
  });

  it.each([
    ['no proof', async () => undefined],
    ['two proofs', async () => `${await proof()}, ${await proof()}`],
    ['another typ', async () => proof({}, { typ: 'JWT' })],
    ['no jwk', async () => proof({}, { jwk: undefined })],
    ['a private key in the jwk', async () => proof({}, { jwk: await exportJWK(keys.privateKey) })],
    ['a signature by another key', async () => proof({}, {}, (await generateKeyPair('ES256')).privateKey)],
    ['no jti', async () => proof({ jti: undefined })],
    ['no htm', async () => proof({ htm: undefined })],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses %s', async (_what, make) => {
    const proof = await make();
    expect(() => readDPoPProof(proof)).toThrow(InvalidDpopProof);
  });

  it('refuses a symmetric or none algorithm', async () => {
    const hmac = await new SignJWT({ htm: 'POST', htu: 'https://as.example/token', jti: 'x', iat: now() })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'AAAA' } as JWK })
      .sign(new Uint8Array(32));
    expect(() => readDPoPProof(hmac)).toThrow(/signed with one of/);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk })).toString('base64url')}.${Buffer.from(JSON.stringify({ htm: 'POST', htu: 'https://as.example/token', jti: 'x', iat: now() })).toString('base64url')}.`;
    expect(() => readDPoPProof(none)).toThrow(InvalidDpopProof);
  });
});

describe('checking a proof against its request', () => {
  const base = { jkt: 'k', jti: 'j', htm: 'POST', htu: 'https://as.example/token', iat: 1_000_000 };
  const expected = { htm: 'POST', htu: 'https://as.example/token', nowSeconds: 1_000_000 };
  it('accepts the method, the URL without query or fragment, and a fresh iat', () => {
    expect(() => checkProof({ ...base, htu: 'https://as.example/token?x=1#f' }, expected)).not.toThrow();
    expect(() => checkProof(base, { ...expected, nowSeconds: 1_000_000 + DPOP_IAT_WINDOW_SECONDS })).not.toThrow();
  });
  it.each([
    ['another method', { htm: 'GET' }, {}],
    ['another URL', { htu: 'https://as.example/other' }, {}],
    ['a stale iat', {}, { nowSeconds: 1_000_000 + DPOP_IAT_WINDOW_SECONDS + 1 }],
    ['a future iat', {}, { nowSeconds: 1_000_000 - DPOP_IAT_WINDOW_SECONDS - 1 }],
    ['another access token', { ath: 'x' }, { accessTokenHash: sha256('token') }],
    ['no ath with a token', {}, { accessTokenHash: sha256('token') }],
  ])('refuses %s', (_what, claims, expectations) => {
    expect(() => checkProof({ ...base, ...claims }, { ...expected, ...expectations })).toThrow(InvalidDpopProof);
  });
  it('asks for the server\'s nonce when nonces are on (use_dpop_nonce)', () => {
    expect(() => checkProof(base, { ...expected, nonceIsValid: () => true })).toThrow(UseDpopNonce);
    expect(() => checkProof({ ...base, nonce: 'old' }, { ...expected, nonceIsValid: (n) => n === 'current' })).toThrow(UseDpopNonce);
    expect(() => checkProof({ ...base, nonce: 'current' }, { ...expected, nonceIsValid: (n) => n === 'current' })).not.toThrow();
  });
});

describe('a proof is used once', () => {
  const accepted = { type: 'DPoPProofAccepted' as const, data: { jkt: 'k'.repeat(43), expiresAt: '2026-01-01T00:01:00.000Z' } };
  it('is accepted on a new stream, refused on one that has it', () => {
    given(dpopProofDecider, []).when({ kind: 'AcceptDPoPProof', jkt: 'k'.repeat(43), expiresAt: new Date('2026-01-01T00:01:00.000Z') }).then([accepted]);
    given(dpopProofDecider, [accepted]).when({ kind: 'AcceptDPoPProof', jkt: 'k'.repeat(43), expiresAt: new Date('2026-01-01T00:01:00.000Z') }).thenRefuses(InvalidDpopProof, /already used/);
  });
  it('at a resource server, per instance', async () => {
    const proofs = new PresentationProofs();
    const jkt = await calculateJwkThumbprint(publicJwk, 'sha256');
    const request = { htm: 'GET', htu: 'https://rs.example/api', accessTokenHash: sha256('token'), jkt };
    const once = await proof({ htm: 'GET', htu: 'https://rs.example/api', ath: sha256('token') });
    await proofs.check(once, request);
    await expect(proofs.check(once, request)).rejects.toThrow(/already used/);
    await expect(proofs.check(await proof({ htm: 'GET', htu: 'https://rs.example/api', ath: sha256('token') }), { ...request, jkt: 'another' })).rejects.toThrow(/another key/);
  });
});

describe('server nonces (RFC 9449 section 8)', () => {
  it('are good for this period and the last, on every instance with the key', () => {
    const key = Buffer.alloc(32, 7);
    const t = 1_700_000_000_000;
    const nonce = new DPoPNonces(key, 60).current(t);
    expect(new DPoPNonces(key, 60).isValid(nonce, t + 60_000)).toBe(true);
    expect(new DPoPNonces(key, 60).isValid(nonce, t + 120_000)).toBe(false);
    expect(new DPoPNonces(Buffer.alloc(32, 8), 60).isValid(nonce, t)).toBe(false);
  });
});
