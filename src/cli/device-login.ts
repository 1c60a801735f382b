import { parseArgs } from 'node:util';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';

/**
 * `oauth-device-login`: signs in from a terminal with the OAuth 2.0 Device Authorization
 * Grant (RFC 8628), as a television or a command-line tool would, with nothing but fetch:
 * it asks for a code, shows where to enter it, polls the token endpoint as the server asks
 * (authorization_pending: again after the interval; slow_down: five seconds slower), and
 * prints the claims of the tokens it got. An example of a client, not part of the server:
 * it knows the server only by its metadata (RFC 8414).
 */
const HELP = `oauth-device-login: sign in on this terminal with a code entered in a browser (RFC 8628)

  oauth-device-login [--issuer <url>] [--client-id <id>] [--scope "<scopes>"]

  --issuer     the authorization server (default: $ISSUER, else http://127.0.0.1:3000)
  --client-id  a client registered for urn:ietf:params:oauth:grant-type:device_code (default: demo-device)
  --scope      default: "openid profile"
  A confidential client's secret comes from $DEVICE_CLIENT_SECRET (sent with HTTP Basic).`;

export interface DeviceLoginIo {
  out(line: string): void;
  err(line: string): void;
  sleep(ms: number): Promise<void>;
}

const consoleIo: DeviceLoginIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

type Json = Record<string, unknown>;

async function postForm(url: string, form: Record<string, string>, clientId: string, secret: string | undefined): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  // RFC 6749 section 2.3.1: a secret goes in HTTP Basic, each part form-encoded; a public client names itself in the body.
  if (secret !== undefined) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const body = new URLSearchParams(secret === undefined ? { ...form, client_id: clientId } : form);
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Json };
}

export async function runDeviceLogin(argv: string[], env: NodeJS.ProcessEnv = process.env, io: DeviceLoginIo = consoleIo): Promise<number> {
  let options;
  try {
    options = parseArgs({ args: argv, options: { issuer: { type: 'string' }, 'client-id': { type: 'string' }, scope: { type: 'string' }, help: { type: 'boolean' } }, strict: true }).values;
  } catch (error) {
    io.err(`oauth-device-login: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const issuer = (options.issuer ?? env.ISSUER ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  const clientId = options['client-id'] ?? 'demo-device';
  const secret = env.DEVICE_CLIENT_SECRET || undefined;

  const metadata = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Json;
  if (metadata.issuer !== issuer || typeof metadata.device_authorization_endpoint !== 'string') {
    io.err(`oauth-device-login: ${issuer} does not announce a device authorization endpoint`);
    return 1;
  }
  const started = await postForm(metadata.device_authorization_endpoint, { scope: options.scope ?? 'openid profile' }, clientId, secret);
  if (started.status !== 200) {
    io.err(`oauth-device-login: the server refused: ${String(started.body.error)} (${String(started.body.error_description ?? '')})`);
    return 1;
  }
  const codes = started.body as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete?: string; expires_in: number; interval?: number };
  io.out(`To sign in, open ${codes.verification_uri} in a browser and enter the code ${codes.user_code}`);
  if (codes.verification_uri_complete) io.out(`(or open ${codes.verification_uri_complete})`);
  io.out(`The code is good for ${Math.round(codes.expires_in / 60)} minutes. Waiting...`);

  let interval = codes.interval ?? 5;
  for (;;) {
    await io.sleep(interval * 1000);
    const polled = await postForm(metadata.token_endpoint as string, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: codes.device_code }, clientId, secret);
    if (polled.status === 200) return printTokens(polled.body, issuer, clientId, metadata.jwks_uri as string, io);
    if (polled.body.error === 'authorization_pending') continue;
    if (polled.body.error === 'slow_down') {
      interval += 5;
      continue;
    }
    io.err(`oauth-device-login: ${String(polled.body.error)}: ${String(polled.body.error_description ?? '')}`);
    return 1;
  }
}

/** The access token's claims as they came (it is the resource server's to check), and the ID token's once verified. */
async function printTokens(tokens: Json, issuer: string, clientId: string, jwksUri: string, io: DeviceLoginIo): Promise<number> {
  io.out(`Signed in. Scope: ${String(tokens.scope)}`);
  io.out(`access token claims: ${JSON.stringify(decodeJwt(tokens.access_token as string), null, 2)}`);
  if (typeof tokens.id_token === 'string') {
    const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(jwksUri)), { issuer, audience: clientId });
    io.out(`ID token claims (verified): ${JSON.stringify(payload, null, 2)}`);
  }
  if (tokens.refresh_token) io.out('A refresh token came too (not shown).');
  return 0;
}
