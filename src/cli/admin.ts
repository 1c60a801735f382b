import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ClientDocument } from '../../projections/clients.projection.js';
import type { GrantType } from '../domain/events.js';
import { DEVICE_CODE_GRANT_TYPE } from '../domain/events/event-schema.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { OAuthError } from '../domain/oauth-errors.js';
import { createAuditKey } from '../credentials/audit-keys.js';
import { createInitialAccessToken, initialAccessTokenName } from '../credentials/registration-tokens.js';
import type { SecretStore } from '../credentials/secret-store.js';
import { openCommandSide } from '../system/command-side.js';
import { SIGNING_ALGS, type SigningAlg } from '../keys/signing-keys.js';

const HELPS = {
  client: `oauth-admin client: the applications that may ask for tokens

  oauth-admin client add --id <client_id> --name <name> --redirect-uri <uri> [--redirect-uri <uri>...]
                         [--public] [--auth-method client_secret_basic|client_secret_post|private_key_jwt]
                         [--jwks-file <public JWKS, for private_key_jwt>] [--scope "<scopes>"]
                         [--grant-type authorization_code|refresh_token|client_credentials|urn:ietf:params:oauth:grant-type:device_code ...]
                         [--introspects <audience> ...]   a resource server: it may introspect tokens for these audiences
                         [--id-token-alg RS256|ES256]     how its ID tokens are signed (RS256 by default)
                         [--post-logout-redirect-uri <uri> ...] [--backchannel-logout-uri <uri>]
                         [--backchannel-logout-session-required]   OpenID Connect logout
                         [--resource <uri> ...]           the resource servers it may ask tokens for, its default first
                                                          (default: any registered one, the server's RS_URL first)
                         [--dpop-bound]                   its access tokens must be DPoP-bound (RFC 9449)
                         [--require-par]                  it must push its authorization requests (RFC 9126)
                         [--fapi2]                        the FAPI 2.0 Security Profile (needs --auth-method private_key_jwt)
  oauth-admin client list
  oauth-admin client rotate-secret --id <client_id>     a new secret, shown once; the old one stops working
  oauth-admin client disable --id <client_id>           it may no longer authorize or get tokens
  oauth-admin client sweep                              delete the clients that registered themselves (RFC 7591) more
                                                        than UNUSED_CLIENT_TTL ago and were never issued a token`,
  resource: `oauth-admin resource: the resource servers tokens may be issued for (RFC 8707)

  oauth-admin resource add --uri <resource indicator> --name <name> --scope "<scopes>"
                                                      its tokens carry the URI as aud; the consent page shows the name
  oauth-admin resource list
  oauth-admin resource disable --uri <resource indicator>   no new token for it`,
  user: `oauth-admin user: the people who sign in

  oauth-admin user add --username <username> --name <name> [--email <email>] (--password-stdin | --password <password>)
  oauth-admin user disable --username <username>        they may no longer sign in`,
  keys: `oauth-admin keys: the access token signing keys

  oauth-admin keys rotate [--activate-after <seconds>] [--alg ES256|RS256]
                                                      publish a new key of each algorithm (or of one); it signs from then on
  oauth-admin keys list
  oauth-admin keys reseal                             seal every private key and server key again under the first
                                                      SECRET_STORE_KEY, after a new one was put first (docs/shared-state.md)`,
  'registration-token': `oauth-admin registration-token: initial access tokens for dynamic client registration (RFC 7591)

  oauth-admin registration-token create --name <who>   a token, shown once, to send as "Authorization: Bearer" to /register
  oauth-admin registration-token revoke --id <token id> it registers no more clients (the id is the token's part before the dot)`,
  'audit-key': `oauth-admin audit-key: credentials for the read-only audit API

  oauth-admin audit-key create --name <auditor>         a key, shown once`,
};

const HELP = `oauth-admin: manage the authorization server's clients, users and keys

${Object.values(HELPS).join('\n\n')}

It writes to the store the server is configured with (DATA_DIR, EVENTSTOREDB_URL, DATABASE_URL), so it
works while the server runs. Secrets are printed once and kept only as hashes. Prefer
--password-stdin: a --password shows in the process list. Each command takes --help.`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
  stdin(): string;
  /** Progress on a terminal (stderr), if any. */
  progress?(text: string): void;
}

const processIo: Io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  stdin: () => readFileSync(0, 'utf8'),
};

/** Runs one admin command; returns the process exit code. */
export async function runAdmin(argv: string[], env: Record<string, string | undefined> = process.env, io: Io = processIo): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (!noun || noun === '--help' || noun === '-h') {
    io.out(HELP);
    return noun ? 0 : 2;
  }
  if (verb === '--help' || verb === '-h' || rest.includes('--help') || rest.includes('-h')) {
    io.out(HELPS[noun as keyof typeof HELPS] ?? HELP);
    return noun in HELPS ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        id: { type: 'string' },
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        public: { type: 'boolean' },
        'auth-method': { type: 'string' },
        scope: { type: 'string' },
        username: { type: 'string' },
        email: { type: 'string' },
        password: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        'grant-type': { type: 'string', multiple: true },
        introspects: { type: 'string', multiple: true },
        'id-token-alg': { type: 'string' },
        'post-logout-redirect-uri': { type: 'string', multiple: true },
        'backchannel-logout-uri': { type: 'string' },
        'backchannel-logout-session-required': { type: 'boolean' },
        'jwks-file': { type: 'string' },
        'activate-after': { type: 'string' },
        alg: { type: 'string' },
        uri: { type: 'string' },
        resource: { type: 'string', multiple: true },
        'dpop-bound': { type: 'boolean' },
        'require-par': { type: 'boolean' },
        fapi2: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    io.err(`oauth-admin: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const required = (name: keyof typeof parsed): string => {
    const value = parsed[name];
    if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
    return value;
  };

  let side;
  try {
    const config = loadConfig(env);
    side = await openCommandSide(config);
    const command = `${noun} ${verb ?? ''}`.trim();
    switch (command) {
      case 'client add': {
        const isPublic = parsed.public === true;
        const method = parsed['auth-method'];
        if (method !== undefined && !['client_secret_basic', 'client_secret_post', 'private_key_jwt'].includes(method)) {
          throw new UsageError('--auth-method must be client_secret_basic, client_secret_post or private_key_jwt');
        }
        const grantTypes = parsed['grant-type'] as GrantType[] | undefined;
        const unknownGrant = grantTypes?.find((g) => !['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT_TYPE].includes(g));
        if (unknownGrant) throw new UsageError(`unknown --grant-type ${unknownGrant}`);
        const jwks = parsed['jwks-file'] ? (JSON.parse(readFileSync(parsed['jwks-file'], 'utf8')) as ClientDocument['jwks']) : undefined;
        if (isPublic && method) throw new UsageError('a public client has no secret, so no --auth-method');
        const idTokenAlg = parsed['id-token-alg'];
        if (idTokenAlg !== undefined && !(SIGNING_ALGS as readonly string[]).includes(idTokenAlg)) throw new UsageError(`--id-token-alg must be one of ${SIGNING_ALGS.join(', ')}`);
        const redirectUris = parsed['redirect-uri'] ?? [];
        if (redirectUris.length === 0 && (grantTypes ?? ['authorization_code']).includes('authorization_code')) throw new UsageError('--redirect-uri is required');
        const result = await side.admin.registerClient({
          clientId: required('id'),
          name: required('name'),
          clientType: isPublic ? 'public' : 'confidential',
          redirectUris,
          scopes: (parsed.scope ?? 'profile items:read').split(' ').filter(Boolean),
          tokenEndpointAuthMethod: isPublic ? 'none' : (method as ClientDocument['tokenEndpointAuthMethod'] | undefined),
          grantTypes,
          jwks,
          introspectionAudiences: parsed.introspects as string[] | undefined,
          idTokenSignedResponseAlg: idTokenAlg as SigningAlg | undefined,
          postLogoutRedirectUris: parsed['post-logout-redirect-uri'] as string[] | undefined,
          backchannelLogoutUri: parsed['backchannel-logout-uri'] as string | undefined,
          backchannelLogoutSessionRequired: parsed['backchannel-logout-session-required'] as boolean | undefined,
          resources: parsed.resource as string[] | undefined,
          dpopBoundAccessTokens: parsed['dpop-bound'] as boolean | undefined,
          requirePushedAuthorizationRequests: parsed['require-par'] as boolean | undefined,
          securityProfile: parsed.fapi2 ? 'fapi2' : undefined,
        });
        io.out(`registered client ${result.clientId}`);
        if (result.clientSecret) io.out(`client_secret: ${result.clientSecret}\n(shown once; only its hash is kept)`);
        return 0;
      }
      case 'client list': {
        for (const client of side.ports.readModel.clients()) {
          const status = client.deleted ? `\tdeleted (${client.deleted.reason})` : client.disabled ? '\tdisabled' : '';
          io.out(`${client.clientId}\t${client.clientType}\t${client.tokenEndpointAuthMethod}\t${client.grantTypes.join(',')}\t${client.name}\t${client.redirectUris.join(' ')}${status}${await registeredBy(side.ports.secrets, client)}`);
        }
        return 0;
      }
      case 'resource add': {
        await side.admin.registerResourceServer({ uri: required('uri'), name: required('name'), scopes: (parsed.scope ?? '').split(' ').filter(Boolean) });
        io.out(`registered resource server ${parsed.uri}`);
        return 0;
      }
      case 'resource list': {
        const registered = side.ports.readModel.resourceServers();
        // The server's own (RS_URL) is known without registration: say so, unless registered.
        if (!registered.some((each) => each.uri === config.resourceServerUrl)) io.out(`${config.resourceServerUrl}\t(any scope)\tResource server\tdefault, from RS_URL`);
        for (const resourceServer of registered) {
          io.out(`${resourceServer.uri}\t${resourceServer.scopes.join(' ')}\t${resourceServer.name}${resourceServer.disabled ? '\tdisabled' : ''}`);
        }
        return 0;
      }
      case 'resource disable': {
        await side.admin.disableResourceServer(required('uri'));
        io.out(`disabled resource server ${parsed.uri}`);
        return 0;
      }
      case 'user add': {
        const password = parsed['password-stdin'] ? io.stdin().replace(/\r?\n$/, '') : required('password');
        const { userId } = await side.admin.registerUser({ username: required('username'), name: required('name'), email: parsed.email ?? null, password });
        io.out(`registered user ${parsed.username} (sub ${userId})`);
        return 0;
      }
      case 'keys rotate': {
        const delay = parsed['activate-after'] === undefined ? config.signingKeyActivationDelaySeconds : Number(parsed['activate-after']);
        if (!Number.isInteger(delay) || delay < 0) throw new UsageError('--activate-after must be a whole number of seconds');
        const alg = parsed.alg;
        if (alg !== undefined && !(SIGNING_ALGS as readonly string[]).includes(alg)) throw new UsageError(`--alg must be one of ${SIGNING_ALGS.join(', ')}`);
        for (const each of alg === undefined ? SIGNING_ALGS : [alg as SigningAlg]) {
          const { kid, activateAfter } = await side.admin.rotateSigningKey(delay, each);
          io.out(`published ${each} signing key ${kid}; a running authorization server signs with it from ${activateAfter}`);
        }
        return 0;
      }
      case 'client rotate-secret': {
        const secret = await side.admin.rotateClientSecret(required('id'));
        io.out(`new client_secret for ${parsed.id}: ${secret}\n(shown once; the old secret no longer works)`);
        return 0;
      }
      case 'client disable': {
        await side.admin.disableClient(required('id'));
        io.out(`disabled client ${parsed.id}`);
        return 0;
      }
      case 'user disable': {
        const { revokedGrants, endedSignInSessions } = await side.admin.disableUser(required('username'));
        io.out(`disabled user ${parsed.username}; revoked ${revokedGrants} grant(s) they had given; ended ${endedSignInSessions} sign-in session(s)`);
        return 0;
      }
      case 'client sweep': {
        const ttl = config.dynamicRegistration.unusedClientTtlSeconds;
        const swept = await side.admin.sweepUnusedClients(new Date(Date.now() - ttl * 1000));
        for (const clientId of swept) io.out(`deleted unused client ${clientId}`);
        io.out(`swept ${swept.length} client(s) registered dynamically more than ${ttl} seconds ago and never issued a token`);
        return 0;
      }
      case 'registration-token create': {
        const { token } = await createInitialAccessToken(side.ports.secrets, required('name'));
        io.out(`initial access token: ${token}\n(shown once; only its hash is kept. Use it as "Authorization: Bearer <token>" on /register)`);
        return 0;
      }
      case 'registration-token revoke': {
        if (!(await initialAccessTokenName(side.ports.secrets, required('id')))) throw new UsageError(`no initial access token ${parsed.id}`);
        await side.ports.secrets.delete('initial_access_token', required('id'));
        io.out(`revoked initial access token ${parsed.id}`);
        return 0;
      }
      case 'audit-key create': {
        const { key } = await createAuditKey(side.ports.secrets, required('name'));
        io.out(`audit key: ${key}\n(shown once; only its hash is kept. Use it as "Authorization: Bearer <key>" on /audit/...)`);
        return 0;
      }
      case 'keys reseal': {
        const written = await side.ports.secrets.reseal();
        io.out(`sealed ${written} key(s) again under the first SECRET_STORE_KEY; keys given after it are no longer needed`);
        return 0;
      }
      case 'keys list': {
        for (const key of side.ports.readModel.signingKeys()) {
          io.out(`${key.kid}\t${key.status}\tactivate after ${key.activateAfter ?? '-'}\tretire after ${key.retireAfter ?? '-'}`);
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) io.err(`oauth-admin: ${error.message}\n\n${HELP}`);
    else if (error instanceof ConfigError) io.err(error.message);
    else if (error instanceof OAuthError) io.err(`oauth-admin: ${error.description}`);
    else io.err(`oauth-admin: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await side?.close();
  }
}

class UsageError extends Error {}

/** How a client that registered itself did (RFC 7591): openly, or with whose initial access token. */
async function registeredBy(secrets: SecretStore, client: ClientDocument): Promise<string> {
  if (client.dynamicRegistration === 'open') return '\tregistered itself (open)';
  if (client.dynamicRegistration !== 'initial-access-token') return '';
  const name = client.initialAccessTokenId ? await initialAccessTokenName(secrets, client.initialAccessTokenId) : undefined;
  return `\tregistered itself (initial access token${name ? ` for ${name}` : ''})`;
}
