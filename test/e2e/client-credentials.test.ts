import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { history } from '../../src/audit/history.js';
import type { NatsServer } from '../../src/dev/nats-server.js';
import { tempDir } from '../../src/dev/temp-dir.js';
import { alice, startTokenSuite, stopTokenSuite } from '../support/token-suite.js';
import { clientAuth, runCodeFlow, signInAndDecide, type FlowClient } from '../support/oauth-flow.js';
import type { TestSystem } from '../support/system.js';
import { UserAgent } from '../support/user-agent.js';

const insecure = { [oauth.allowInsecureRequests]: true };
const dir = tempDir();
/** Every secret any test here handled, to look for in the logs at the end. */
const secretsSeen = new Set<string>();
let nats: NatsServer;
let system: TestSystem;
let issuer: string;
let as: oauth.AuthorizationServer;
let web: FlowClient;

beforeAll(async () => {
  ({ nats, system, issuer, as, web } = await startTokenSuite(dir.path, secretsSeen));
});
afterAll(async () => {
  await stopTokenSuite({ system, nats }, secretsSeen);
  dir.remove();
});

/** Until the resource server's projections, fed over NATS, have seen everything appended so far. */
const rsCaughtUp = async () => system.rs.projections.waitFor(await system.as.store.headPosition());
const callRs = (accessToken: string, path = '/api/profile') =>
  fetch(`${system.config.resourceServerUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });

describe('client_credentials and private_key_jwt', () => {
  it('issues a machine token to a confidential client registered for it', async () => {
    const { clientSecret } = await system.as.admin.registerClient({
      clientId: 'machine', name: 'Machine', clientType: 'confidential', redirectUris: ['https://machine.example/cb'], scopes: ['items:read'], grantTypes: ['client_credentials'],
    });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const machine = { client_id: 'machine' };
    const tokens = await oauth.processClientCredentialsResponse(
      as, machine, await oauth.clientCredentialsGrantRequest(as, machine, oauth.ClientSecretBasic(clientSecret!), {}, insecure),
    );
    expect(tokens.refresh_token).toBeUndefined();
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'machine', client_id: 'machine', scope: 'items:read' });
    await rsCaughtUp();
    expect((await callRs(tokens.access_token, '/api/items')).status).toBe(200);
    // A client not registered for the grant may not use it.
    const refused = await oauth.clientCredentialsGrantRequest(as, { client_id: 'web' }, clientAuth(web), {}, insecure);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized_client' });
  });

  it('authenticates a client by a JWT signed with its registered key, once per assertion', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    await system.as.admin.registerClient({
      clientId: 'pkjwt', name: 'Key client', clientType: 'confidential', redirectUris: ['http://127.0.0.1:9/pk'], scopes: ['profile'],
      tokenEndpointAuthMethod: 'private_key_jwt', grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'], jwks: { keys: [jwk] },
    });
    await system.as.readSide.waitFor(await system.as.store.headPosition());
    const client = { client_id: 'pkjwt' };
    const auth = oauth.PrivateKeyJwt({ key: privateKey, kid: 'k1' });
    // oauth4webapi, strict, through the whole code flow and a refresh.
    const url = new URL(as.authorization_endpoint!);
    const verifier = oauth.generateRandomCodeVerifier();
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: 'pkjwt', redirect_uri: 'http://127.0.0.1:9/pk', scope: 'profile', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) url.searchParams.set(k, v);
    const callback = oauth.validateAuthResponse(as, client, await signInAndDecide(new UserAgent(), issuer, url, alice), oauth.expectNoState);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, callback, 'http://127.0.0.1:9/pk', verifier, insecure));
    await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure));

    const assertion = await new SignJWT({ jti: createHash('sha256').update(String(Math.random())).digest('hex') })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('pkjwt').setSubject('pkjwt').setAudience(issuer)
      .setIssuedAt().setExpirationTime('2m').sign(privateKey);
    const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
    const post = (body: Record<string, string>) => fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    expect((await post(form)).status).toBe(200);
    const replay = await post(form);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'invalid_client' });
    // Sent ten times at once, a fresh assertion is still good exactly once.
    const fresh = await new SignJWT({ jti: createHash('sha256').update(String(Math.random())).digest('hex') })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('pkjwt').setSubject('pkjwt').setAudience(issuer)
      .setIssuedAt().setExpirationTime('2m').sign(privateKey);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => post({ ...form, client_assertion: fresh }).then((r) => r.status)));
    expect(statuses.sort()).toEqual([200, ...Array(9).fill(401)]);
    // Each use is on record, in the client's history, with the client as the actor.
    const uses = [];
    for await (const entry of history(system.as.store, { client: 'pkjwt' })) if (entry.type === 'ClientAssertionAccepted') uses.push(entry);
    expect(uses).toHaveLength(4); // the code redemption, the refresh, the first assertion and the fresh one
    expect(new Set(uses.map((u) => u.actor))).toEqual(new Set(['client:pkjwt']));

    const { privateKey: stranger } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ jti: 'forged' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('pkjwt').setSubject('pkjwt')
      .setAudience(issuer).setIssuedAt().setExpirationTime('2m').sign(stranger);
    expect((await post({ ...form, client_assertion: forged })).status).toBe(401);
    const longLived = await new SignJWT({ jti: 'long' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('pkjwt').setSubject('pkjwt')
      .setAudience(issuer).setIssuedAt().setExpirationTime('1h').sign(privateKey);
    expect((await post({ ...form, client_assertion: longLived })).status).toBe(401);

    // Audience injection (draft-ietf-oauth-rfc7523bis): the issuer, as the only value.
    const withAudience = (aud: string | string[]) => new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('pkjwt').setSubject('pkjwt')
      .setAudience(aud).setIssuedAt().setExpirationTime('2m').sign(privateKey);
    for (const aud of [[issuer, 'https://other.example'], ['https://other.example', issuer], `${issuer}/token`, [`${issuer}/token`], 'https://other.example', [issuer, issuer]]) {
      const refused = await post({ ...form, client_assertion: await withAudience(aud) });
      expect([aud, refused.status, ((await refused.json()) as { error: string }).error]).toEqual([aud, 401, 'invalid_client']);
    }
    expect((await post({ ...form, client_assertion: await withAudience([issuer]) })).status).toBe(200);
  });
});

describe('signing key rotation, staged', () => {
  it('publishes a new key before it signs, keeps the old one while its tokens live, then retires it', async () => {
    const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid as string;
    const jwksKids = async () => ((await (await fetch(`${issuer}/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const before = await runCodeFlow(issuer, web, alice);
    const oldKid = kidOf(before.tokens.access_token);

    const { kid: newKid, position } = await system.as.admin.rotateSigningKey(3600);
    await system.as.readSide.waitFor(position);
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    // Published, not yet active: still signing with the old key.
    expect(kidOf((await runCodeFlow(issuer, web, alice)).tokens.access_token)).toBe(oldKid);

    await system.as.keyLifecycle.tick(new Date(Date.now() + 3601_000));
    const after = await runCodeFlow(issuer, web, alice);
    expect(kidOf(after.tokens.access_token)).toBe(newKid);
    await rsCaughtUp();
    // The resource server picked the new key up from its projection, and still takes the old key's tokens.
    expect((await callRs(after.tokens.access_token)).status).toBe(200);
    expect((await callRs(before.tokens.access_token)).status).toBe(200);
    expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, newKid]));

    // Once every token the old key signed has expired (access tokens and ID tokens alike), it is retired: gone from the JWKS, refused.
    const longestLived = Math.max(system.config.accessTokenTtlSeconds, system.config.idTokenTtlSeconds);
    await system.as.keyLifecycle.tick(new Date(Date.now() + 3601_000 + (longestLived + 61) * 1000));
    expect(await jwksKids()).not.toContain(oldKid);
    // Each algorithm keeps its own newest key: rotating ES256 superseded no RS256 key.
    const rsa = system.as.ports.readModel.activeSigningKey('RS256')!;
    expect(rsa.status).toBe('active');
    expect(await jwksKids()).toContain(rsa.kid);
    await rsCaughtUp();
    expect((await callRs(before.tokens.access_token)).status).toBe(401);
    expect((await callRs(after.tokens.access_token)).status).toBe(200);
  });
});
