import type { CommandBus } from '@nestjs/cqrs';
import { DeleteClient, DisableClient, DisableResourceServer, DisableUser, RegisterResourceServer, GenerateSigningKey, RegisterClient, RegisterUser, RotateClientSecret } from '../commands/registration.commands.js';
import type { Ports } from '../commands/ports.js';
import { commandContext, type CommandContext } from '../cqrs/command-context.js';
import { InvalidRequest } from '../domain/oauth-errors.js';
import { generateClientSecret, hashClientSecret } from '../credentials/client-secret.js';
import { hashPassword } from '../credentials/password.js';
import type { ClientDeleted, ClientRegistered, GrantType } from '../domain/events.js';
import { generateSigningKey, SIGNING_ALG, type SigningAlg } from '../keys/signing-keys.js';
import { randomUUID } from 'node:crypto';
import { RevokeGrant } from '../commands/revocation.commands.js';
import { EndSignInSession } from '../commands/sign-in-session.commands.js';

export interface NewClient {
  clientId: string;
  name: string;
  clientType: 'confidential' | 'public';
  redirectUris: string[];
  scopes: string[];
  tokenEndpointAuthMethod?: ClientRegistered['data']['tokenEndpointAuthMethod'];
  /** Default: authorization_code and refresh_token. */
  grantTypes?: GrantType[];
  /** Public keys, for private_key_jwt. */
  jwks?: ClientRegistered['data']['jwks'];
  /** A resource server's audiences, whose access tokens it may introspect. */
  introspectionAudiences?: string[];
  /** How its ID tokens are signed (RS256 when absent, as OpenID Connect Registration says). */
  idTokenSignedResponseAlg?: SigningAlg;
  /** OpenID Connect logout: where RP-initiated logout may return, where logout tokens go. */
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
  /** The resource servers it may ask tokens for (RFC 8707), its default first; absent: any registered one. */
  resources?: string[];
  /** Every token request must carry a DPoP proof (RFC 9449 section 5.2). */
  dpopBoundAccessTokens?: boolean;
  /** It may start an authorization only with a pushed request (RFC 9126). */
  requirePushedAuthorizationRequests?: boolean;
  /** The FAPI 2.0 Security Profile: pushed requests, DPoP, private_key_jwt, short codes (docs/dpop-and-par.md). */
  securityProfile?: 'fapi2';
  /** A client that registered itself (RFC 7591): how, and the pages about it it named. */
  registration?: Pick<ClientRegistered['data'], 'dynamicRegistration' | 'initialAccessTokenId' | 'clientUri' | 'logoUri' | 'tosUri' | 'policyUri'>;
}

/**
 * Registration of clients, users and keys: one piece of code for the command line, the
 * demo seed and the tests. Each secret goes to the secret store and only there.
 */
export class AdminService {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly ports: Pick<Ports, 'secrets' | 'readModel'>,
  ) {}

  /** Returns the client secret in clear, once; only its hash is kept. */
  /** `context`: the request's, when a client registers itself (its events carry the request id). */
  async registerClient(client: NewClient, clientSecret?: string, context: CommandContext = commandContext()): Promise<{ clientId: string; clientSecret: string | null; position: number }> {
    const method = client.tokenEndpointAuthMethod ?? (client.clientType === 'public' ? 'none' : 'client_secret_basic');
    const { position } = await this.commandBus.execute(
      new RegisterClient(
        {
          clientId: client.clientId,
          name: client.name,
          clientType: client.clientType,
          redirectUris: client.redirectUris,
          scopes: client.scopes,
          tokenEndpointAuthMethod: method,
          grantTypes: client.grantTypes ?? ['authorization_code', 'refresh_token'],
          ...(client.jwks ? { jwks: client.jwks } : {}),
          ...(client.introspectionAudiences?.length ? { introspectionAudiences: client.introspectionAudiences } : {}),
          ...(client.idTokenSignedResponseAlg ? { idTokenSignedResponseAlg: client.idTokenSignedResponseAlg } : {}),
          ...(client.postLogoutRedirectUris?.length ? { postLogoutRedirectUris: client.postLogoutRedirectUris } : {}),
          ...(client.backchannelLogoutUri ? { backchannelLogoutUri: client.backchannelLogoutUri } : {}),
          ...(client.backchannelLogoutSessionRequired !== undefined ? { backchannelLogoutSessionRequired: client.backchannelLogoutSessionRequired } : {}),
          ...(client.resources?.length ? { resources: client.resources } : {}),
          ...(client.dpopBoundAccessTokens ? { dpopBoundAccessTokens: true } : {}),
          ...(client.requirePushedAuthorizationRequests ? { requirePushedAuthorizationRequests: true } : {}),
          ...(client.securityProfile ? { securityProfile: client.securityProfile } : {}),
          ...client.registration,
        },
        context,
      ),
    );
    if (client.clientType === 'public' || method === 'private_key_jwt') return { clientId: client.clientId, clientSecret: null, position };
    const secret = clientSecret ?? generateClientSecret();
    await this.ports.secrets.put('client_secret', client.clientId, hashClientSecret(secret));
    return { clientId: client.clientId, clientSecret: secret, position };
  }

  /**
   * A new secret for a confidential client, in clear once. The old one stops working as
   * soon as each server's read side has the rotation. The new hash is stored before the
   * rotation is recorded: servers cache hashes until the event says they changed.
   */
  async rotateClientSecret(clientId: string): Promise<string> {
    const previous = await this.ports.secrets.get('client_secret', clientId);
    const secret = generateClientSecret();
    await this.ports.secrets.put('client_secret', clientId, hashClientSecret(secret));
    try {
      await this.commandBus.execute(new RotateClientSecret(clientId, commandContext()));
    } catch (error) {
      // Refused (unknown, public or disabled client): the secret stays as it was.
      if (previous === undefined) await this.ports.secrets.delete('client_secret', clientId);
      else await this.ports.secrets.put('client_secret', clientId, previous);
      throw error;
    }
    return secret;
  }

  /** A resource server clients may ask tokens for, by its URI (RFC 8707); its tokens carry the URI as aud. */
  async registerResourceServer(resourceServer: { uri: string; name: string; scopes: string[] }): Promise<{ position: number }> {
    const { position } = await this.commandBus.execute(new RegisterResourceServer(resourceServer, commandContext()));
    return { position };
  }

  async disableResourceServer(uri: string): Promise<void> {
    await this.commandBus.execute(new DisableResourceServer(uri, commandContext()));
  }

  /**
   * The client is gone on record (ClientDeleted): every instance refuses it and the tokens
   * it holds by its state on the read side, as for a disabled client. Its secret and
   * registration access token hashes are dropped after the event, never before.
   */
  async deleteClient(clientId: string, reason: ClientDeleted['data']['reason'], context: CommandContext = commandContext()): Promise<{ position: number }> {
    const { position } = await this.commandBus.execute(new DeleteClient(clientId, reason, context));
    await this.ports.secrets.delete('client_secret', clientId);
    await this.ports.secrets.delete('registration_access_token', clientId);
    return { position };
  }

  /**
   * Deletes (reason unused) each client that registered itself before `registeredBefore`
   * and was never issued a token, as the read side knows. A token issued on another
   * instance in the moment between the check and the deletion is lost with the client:
   * after UNUSED_CLIENT_TTL of idleness that is an acceptable edge.
   */
  async sweepUnusedClients(registeredBefore: Date): Promise<string[]> {
    const { readModel } = this.ports;
    const unused = readModel
      .clients()
      .filter((c) => c.dynamicRegistration && !c.deleted && c.registeredAt !== undefined && c.registeredAt < registeredBefore.toISOString())
      .filter((c) => readModel.firstTokenIssuedTo(c.clientId) === undefined);
    const swept: string[] = [];
    for (const { clientId } of unused) {
      try {
        await this.deleteClient(clientId, 'unused');
        swept.push(clientId);
      } catch (error) {
        // Deleted meanwhile (by itself, or by a sweep on another instance): refused, and not the sweep's end.
        if (!(error instanceof InvalidRequest)) throw error;
      }
    }
    return swept;
  }

  async disableClient(clientId: string): Promise<void> {
    await this.commandBus.execute(new DisableClient(clientId, commandContext()));
  }

  /**
   * The user signs in no more, and every grant they gave is revoked on record (reason
   * user_disabled): their refresh tokens stop at once, and so do their access tokens at
   * the resource server and at introspection. A user already disabled only has the grants
   * still standing revoked, so running it again finishes a sweep that was interrupted.
   * Their sign-in sessions are ended on record too (reason user_disabled): they were
   * refused from the moment of the DisableUser event, and now the record says so.
   */
  async disableUser(username: string): Promise<{ revokedGrants: number; endedSignInSessions: number }> {
    const { readModel } = this.ports;
    const user = readModel.userByUsername(username);
    if (!user?.disabled) await this.commandBus.execute(new DisableUser(username, commandContext()));
    if (user === undefined) return { revokedGrants: 0, endedSignInSessions: 0 };
    const { userId } = user;
    let revokedGrants = 0;
    for (const grant of readModel.liveGrantsOf(userId, new Date())) {
      await this.commandBus.execute(new RevokeGrant(grant.grantId, 'user_disabled', 'admin', userId, commandContext()));
      revokedGrants += 1;
    }
    let endedSignInSessions = 0;
    for (const { signInSessionId } of readModel.signInSessionsOf(userId)) {
      const { events } = await this.commandBus.execute(new EndSignInSession(signInSessionId, 'user_disabled', commandContext(), userId));
      endedSignInSessions += events.length;
    }
    return { revokedGrants, endedSignInSessions };
  }

  async registerUser(user: { username: string; password: string; name: string; email?: string | null }): Promise<{ userId: string; position: number }> {
    if (user.password.length < 8) throw new Error('a password needs at least 8 characters');
    const userId = randomUUID();
    const decision = await this.commandBus.execute(
      new RegisterUser({ userId, username: user.username, name: user.name, email: user.email ?? null }, commandContext()),
    );
    await this.ports.secrets.put('password', userId, await hashPassword(user.password));
    return { userId, position: decision.position };
  }

  /**
   * Rotation, first stage: a new key is published now and signs from `activateAfterSeconds`
   * on (the key lifecycle activates it). The private half goes to the key store first.
   */
  async rotateSigningKey(activateAfterSeconds: number, alg: SigningAlg = SIGNING_ALG): Promise<{ kid: string; activateAfter: string; position: number }> {
    const key = await generateSigningKey(alg);
    await this.ports.secrets.put('signing_key', key.kid, JSON.stringify(key.privateJwk));
    const activateAfter = new Date(Date.now() + activateAfterSeconds * 1000).toISOString();
    const { position } = await this.commandBus.execute(
      new GenerateSigningKey({ kid: key.kid, alg, publicJwk: key.publicJwk as Record<string, unknown>, activateAfter }, commandContext()),
    );
    return { kid: key.kid, activateAfter, position };
  }
}
