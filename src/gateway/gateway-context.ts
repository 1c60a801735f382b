import type { CommandBus } from '@nestjs/cqrs';
import type { Ports } from '../commands/ports.js';
import { streams } from '../domain/events.js';
import { grantDecider, type GrantState } from '../domain/grant.js';
import type { BrowserCookies } from './browser-session.js';
import type { ClientAuthenticator } from './client-authentication.js';
import type { ClientRegistration } from './client-registration.js';
import type { ResourceServers } from '../grants/resource-indicators.js';
import type { EndpointProofs } from './endpoint-proofs.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** What the routes share: the command bus to act, the ports to read. */
export interface Gateway {
  commandBus: CommandBus;
  ports: Ports;
  /** The browser's session and sign-in cookies, and the CSRF tokens bound to them. */
  browser: BrowserCookies;
  /** Seals the authorizations browsers hold until the user decides (held-authorization.ts). */
  authorizationRequestKey: Buffer;
  /** Seals pushed authorization requests into their request_uri (pushed-authorization-request.ts). */
  pushedRequestKey: Buffer;
  logger: Logger;
  clients: ClientAuthenticator;
  /** What a `resource` parameter (RFC 8707) may name. */
  resourceServers: ResourceServers;
  /** DPoP proofs at the server's own endpoints (RFC 9449): checked, nonced, used once. */
  endpointProofs: EndpointProofs;
  metrics?: Metrics;
  /** Dynamic client registration (RFC 7591, 7592); absent when DYNAMIC_REGISTRATION is off. */
  registration?: ClientRegistration;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The current state of one authorization, folded from its stream (the authoritative state). */
export async function loadGrant(gateway: Gateway, grantId: string | undefined): Promise<GrantState> {
  if (!grantId || !UUID.test(grantId)) return grantDecider.initialState;
  return (await gateway.ports.streams.load(streams.grant(grantId), grantDecider)).state;
}
