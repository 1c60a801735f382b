/**
 * The DPoP rows (RFC 9449) of the side-by-side comparison, measured with run.ts's
 * `compare` and driven by flows.ts. Both servers require their own nonce at the token
 * endpoint (ours by default, DPOP_NONCE=required; the reference with a nonce secret) and
 * none where a bound token is presented, and both remember every proof's jti.
 */
import type { ChildProcess } from 'node:child_process';

/** run.ts's measurement of one workload on both servers, taking turns. */
export type Compare = (
  workload: string,
  oursOptions: Record<string, unknown>,
  theirsOptions: Record<string, unknown>,
  target: string,
  servers: { ours: ChildProcess; theirs: ChildProcess; peaks: boolean },
) => Promise<void>;

export interface DPoPServers {
  /** flows.ts options for a workload on one server (issuer, client, users). */
  flow: (workload: string, issuer: string, authorizePath: string, secret: string) => Record<string, unknown>;
  ours: { process: ChildProcess; issuer: string; resourceServer: string; secret: string };
  /** The reference with JWT access tokens for a resource (its client_credentials peer), and as an OpenID Provider (its UserInfo). */
  jwt: { process: ChildProcess; issuer: string; secret: string };
  openId: { process: ChildProcess; issuer: string; secret: string };
}

export async function compareDPoP(compare: Compare, { flow, ours, jwt, openId }: DPoPServers): Promise<void> {
  await compare(
    'DPoP-bound client_credentials: a fresh proof with the server\'s nonce per request, ES256 JWT access token with cnf.jkt (tokens/s)',
    flow('dpop-client-credentials', ours.issuer, '/authorize', ours.secret),
    flow('dpop-client-credentials', jwt.issuer, '/auth', jwt.secret),
    '',
    { ours: ours.process, theirs: jwt.process, peaks: true },
  );
  // The reference has no resource server: its UserInfo checks a bound token and its proof the same
  // way (signature, htu, ath, jti replay, binding), so it is the peer; its token has to come from a
  // code flow (UserInfo wants a user and scope openid), ours from client_credentials.
  await compare(
    'DPoP-bound token presented with a fresh proof (ath) per request (req/s; ours: GET /api/items on the resource server; reference: its UserInfo, GET /me, opaque token)',
    { ...flow('dpop-resource', ours.issuer, '/authorize', ours.secret), dpopGrant: 'client_credentials', resourceUrl: `${ours.resourceServer}/api/items` },
    { ...flow('dpop-resource', openId.issuer, '/auth', openId.secret), dpopGrant: 'authorization_code', scope: 'openid profile items:read', resourceUrl: `${openId.issuer}/me` },
    '',
    { ours: ours.process, theirs: openId.process, peaks: true },
  );
}
