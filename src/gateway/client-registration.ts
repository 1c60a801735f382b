import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CommandBus } from '@nestjs/cqrs';
import type { AdminService } from '../admin/admin-service.js';
import type { Ports } from '../commands/ports.js';
import { UpdateClient } from '../commands/registration.commands.js';
import type { Config, DynamicRegistrationPolicy } from '../config/config.js';
import type { AddressFailures } from '../credentials/address-failures.js';
import type { SharedState } from '../shared-state/shared-state.js';
import { verifyClientSecret } from '../credentials/client-secret.js';
import { checkInitialAccessToken, checkRegistrationAccessToken, issueRegistrationAccessToken } from '../credentials/registration-tokens.js';
import type { CommandContext } from '../cqrs/command-context.js';
import { clientDecider } from '../domain/client.js';
import { clientMetadataResponse, mayRegisterOpenly, parseClientMetadata, type ClientMetadata, type RegistrationOffer } from '../domain/client-metadata.js';
import { streams, type ClientRegistered } from '../domain/events.js';
import { InvalidClientMetadata, InvalidRedirectUri, InvalidRequest, InvalidToken, TooManyRequests } from '../domain/oauth-errors.js';
import { countedAs } from '../http/client-address.js';

/** The window open registrations are counted in, per client address. */
export const REGISTRATION_WINDOW_MS = 3600_000;

export interface RegistrationSettings {
  policy: Exclude<DynamicRegistrationPolicy, 'off'>;
  /** Asked at each registration: registered resource servers add their scopes to the offer. */
  offer: () => RegistrationOffer;
  limitPerAddress: number;
  /** The registration endpoint's URL: each client's configuration endpoint is below it. */
  endpoint: string;
}

type Answer = Record<string, unknown>;

/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592), between the
 * routes and the commands. A registration goes the administrator's way (AdminService:
 * one path, the secret's hash to the secret store); then its registration access token is
 * made, and the answer waits for this instance's read side, so the client works here at
 * once (and elsewhere through client-lookup.ts).
 */
export class ClientRegistration {
  constructor(
    private readonly admin: AdminService,
    private readonly commandBus: CommandBus,
    private readonly ports: Pick<Ports, 'secrets' | 'readModel' | 'streams'>,
    private readonly settings: RegistrationSettings,
    /** Open registrations by address (a sliding window shared by the instances). */
    private readonly throttle: AddressFailures,
  ) {}

  /** `context`: the request's, so the events carry its id (and the time it came). */
  async register(body: unknown, bearer: string | undefined, address: string, context: CommandContext): Promise<Answer> {
    const { secrets, readModel } = this.ports;
    const { now } = context;
    const initialAccessToken = bearer === undefined ? undefined : await checkInitialAccessToken(secrets, bearer);
    if (bearer !== undefined && !initialAccessToken) throw new InvalidToken('the initial access token is not valid');
    const open = initialAccessToken === undefined;
    if (open) {
      if (this.settings.policy !== 'open') throw new InvalidToken('an initial access token is required to register a client');
      const wait = await this.throttle.retryAfter(countedAs(address), this.settings.limitPerAddress, now.getTime());
      if (wait > 0) throw new TooManyRequests('client registrations', wait);
    }
    const metadata = parseClientMetadata(body, this.settings.offer());
    if (open && !mayRegisterOpenly(metadata)) {
      throw new InvalidToken('an initial access token is required: only public clients (token_endpoint_auth_method none) redirecting to loopback or private-use URIs register without one');
    }
    const clientId = randomBytes(16).toString('base64url');
    const registration = {
      ...pagesOf(metadata),
      dynamicRegistration: open ? ('open' as const) : ('initial-access-token' as const),
      ...(initialAccessToken ? { initialAccessTokenId: initialAccessToken.tokenId } : {}),
    };
    const { clientSecret, position } = await asMetadataError(() => this.admin.registerClient({ ...metadata, clientId, registration }, undefined, context));
    if (open) await this.throttle.record(countedAs(address), now.getTime());
    const registrationAccessToken = await issueRegistrationAccessToken(secrets, clientId);
    await caughtUp(readModel, position);
    return {
      ...clientMetadataResponse({ ...metadata, clientId }),
      client_id_issued_at: Math.floor(now.getTime() / 1000),
      // RFC 7591 section 3.2.1: 0, it does not expire.
      ...(clientSecret ? { client_secret: clientSecret, client_secret_expires_at: 0 } : {}),
      ...this.management(clientId, registrationAccessToken),
    };
  }

  /** RFC 7592 section 2.1: the registration as it stands, read from the client's own stream. */
  async read(clientId: string, bearer: string | undefined): Promise<Answer> {
    const client = await this.authorized(clientId, bearer);
    return this.answer(client, bearer!);
  }

  /**
   * RFC 7592 section 2.2: the whole registration replaced, under the same checks. A client
   * registered openly stays within what open registration allows. Its secret is not sent
   * back (only its hash is kept) and not rotated: a client_secret in the request must be
   * the current one; the registration access token stays the one it presented.
   */
  async update(clientId: string, bearer: string | undefined, body: unknown, context: CommandContext): Promise<Answer> {
    const current = await this.authorized(clientId, bearer);
    const sent = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (sent.client_id !== clientId) throw new InvalidClientMetadata('client_id must be sent, and be the client\'s own');
    if (sent.client_secret !== undefined) {
      const stored = await this.ports.secrets.get('client_secret', clientId);
      if (typeof sent.client_secret !== 'string' || stored === undefined || !verifyClientSecret(sent.client_secret, stored)) {
        throw new InvalidClientMetadata('client_secret must be the current one: a client cannot choose its secret');
      }
    }
    const metadata = parseClientMetadata(body, this.settings.offer());
    if (current.dynamicRegistration === 'open' && !mayRegisterOpenly(metadata)) {
      if (metadata.tokenEndpointAuthMethod !== 'none') throw new InvalidClientMetadata('a client registered without an initial access token stays public (token_endpoint_auth_method none)');
      throw new InvalidRedirectUri('a client registered without an initial access token may only redirect to loopback or private-use URIs');
    }
    const updated: ClientRegistered['data'] = { ...metadata, clientId };
    const { position } = await asMetadataError(() => this.commandBus.execute(new UpdateClient(updated, context)));
    await caughtUp(this.ports.readModel, position);
    return this.answer(updated, bearer!);
  }

  /** RFC 7592 section 2.3: deleted on record; its credentials and the tokens it holds stop working. */
  async delete(clientId: string, bearer: string | undefined, context: CommandContext): Promise<void> {
    await this.authorized(clientId, bearer);
    const { position } = await this.admin.deleteClient(clientId, 'client_request', context);
    await caughtUp(this.ports.readModel, position);
  }

  /**
   * The client's registration, when the bearer is its registration access token (RFC 7592
   * section 3). A deleted client's token is gone with it: 401, as section 2 asks.
   */
  private async authorized(clientId: string, bearer: string | undefined): Promise<ClientRegistered['data']> {
    if (bearer === undefined || !(await checkRegistrationAccessToken(this.ports.secrets, clientId, bearer))) {
      throw new InvalidToken('a valid registration access token for this client is required');
    }
    const { state } = await this.ports.streams.load(streams.client(clientId), clientDecider);
    if (!state.metadata || state.deleted) throw new InvalidToken('a valid registration access token for this client is required');
    return state.metadata;
  }

  private answer(client: ClientRegistered['data'], registrationAccessToken: string): Answer {
    const registeredAt = this.ports.readModel.client(client.clientId)?.registeredAt;
    return {
      ...clientMetadataResponse(client),
      ...(registeredAt ? { client_id_issued_at: Math.floor(Date.parse(registeredAt) / 1000) } : {}),
      ...this.management(client.clientId, registrationAccessToken),
    };
  }

  private management(clientId: string, registrationAccessToken: string): Answer {
    return { registration_access_token: registrationAccessToken, registration_client_uri: `${this.settings.endpoint}/${encodeURIComponent(clientId)}` };
  }
}

/** The pages about a client, as a registration records them (absent ones left out). */
const pagesOf = ({ clientUri, logoUri, tosUri, policyUri }: ClientMetadata) => ({
  ...(clientUri ? { clientUri } : {}),
  ...(logoUri ? { logoUri } : {}),
  ...(tosUri ? { tosUri } : {}),
  ...(policyUri ? { policyUri } : {}),
});

/**
 * This instance's read side has the change, so the client sees its own write here. If the
 * read side is stuck (readiness reports it), the answer goes out all the same: the change
 * is on record, client-lookup.ts finds a new client in its stream, and a registration's
 * credentials, shown once, must reach the client rather than a 500.
 */
async function caughtUp(readModel: Pick<Ports['readModel'], 'waitFor'>, position: number): Promise<void> {
  try {
    await readModel.waitFor(position);
  } catch {
    // Reported by /readyz and the projection stall log, not here.
  }
}

/** What the client decider refuses in a registration is the metadata's fault (RFC 7591 section 3.2.2). */
async function asMetadataError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof InvalidRequest) throw new InvalidClientMetadata(error.description);
    throw error;
  }
}

/**
 * The registration endpoint as configured: none when DYNAMIC_REGISTRATION is off. Open
 * registrations are counted by address where the sign-in throttle counts (the shared state).
 */
export function openClientRegistration(
  config: Config,
  parts: { admin: AdminService; commandBus: CommandBus; ports: Pick<Ports, 'secrets' | 'readModel' | 'streams'>; shared: Pick<SharedState, 'addressCounts'> },
  scopesSupported: readonly string[],
): ClientRegistration | undefined {
  const { policy, scopes, limitPerAddress } = config.dynamicRegistration;
  if (policy === 'off') return undefined;
  const throttle = parts.shared.addressCounts('address_registrations', REGISTRATION_WINDOW_MS);
  // Unless configured, what the server offers: its own scopes and those of every live resource server (RFC 8707).
  const offer = () => ({
    scopes: scopes ?? [...new Set([...scopesSupported, ...parts.ports.readModel.resourceServers().flatMap((server) => (server.disabled ? [] : server.scopes))])],
  });
  const settings = { policy, offer, limitPerAddress, endpoint: `${config.issuer}/register` };
  return new ClientRegistration(parts.admin, parts.commandBus, parts.ports, settings, throttle);
}
