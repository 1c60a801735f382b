import type { Config } from '../config/config.js';
import { InvalidScope, InvalidTarget } from '../domain/oauth-errors.js';
import { isResourceIndicator } from '../domain/resource-indicator.js';
import type { ClientDocument, ResourceServerDocument } from '../read-model/documents.js';
import type { ReadModel } from '../read-model/read-model.js';

/** More than a client needs for one token; a bound on what goes on record per grant. */
export const MAX_RESOURCES = 10;

/** Scopes about the user and the session, which the authorization server serves itself (UserInfo, refresh): no resource server needs to offer them. */
const IDENTITY_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** The `resource` parameters of a request (RFC 8707 section 2), each checked: undefined when none was sent. */
export function requestedResources(values: readonly string[]): string[] | undefined {
  if (values.length === 0) return undefined;
  if (values.length > MAX_RESOURCES) throw new InvalidTarget(`at most ${MAX_RESOURCES} resource parameters`);
  if (!values.every(isResourceIndicator)) throw new InvalidTarget('resource must be an absolute http(s) URI without query or fragment');
  return [...new Set(values)];
}

/**
 * The resource servers tokens may be for: those registered and not disabled, and the
 * server's own (RS_URL), known without registration so that a server works as before
 * with none registered; registering its URI names it and sets its scopes.
 */
export class ResourceServers {
  constructor(
    private readonly readModel: Pick<ReadModel, 'resourceServer'>,
    private readonly config: Pick<Config, 'resourceServerUrl'>,
  ) {}

  /** A resource server tokens may be issued for now; its scopes undefined when it serves any. */
  find(uri: string): (Omit<ResourceServerDocument, 'scopes'> & { scopes?: string[] }) | undefined {
    const registered = this.readModel.resourceServer(uri);
    if (registered) return registered.disabled ? undefined : registered;
    return uri === this.config.resourceServerUrl ? { uri, name: 'Resource server' } : undefined;
  }

  /** Whom a client's tokens are for when it names no resource: the first it registered, else the server's own. */
  defaultFor(client: Pick<ClientDocument, 'resources'>): string {
    return client.resources?.[0] ?? this.config.resourceServerUrl;
  }

  /**
   * What the client may ask for (invalid_target otherwise): resource servers known and
   * live, and among its registered `resources` if it has any. With `scopes`, each must be
   * offered by one of them or be about the user (invalid_scope otherwise).
   */
  check(client: Pick<ClientDocument, 'resources'>, resources: readonly string[], scopes?: readonly string[]): void {
    const found = resources.map((uri) => (client.resources === undefined || client.resources.includes(uri) ? this.find(uri) : undefined));
    if (found.some((server) => server === undefined)) throw new InvalidTarget('the resource is unknown or not for this client');
    if (scopes === undefined || found.some((server) => server!.scopes === undefined)) return;
    const offered = new Set(found.flatMap((server) => server!.scopes!));
    const foreign = scopes.filter((scope) => !offered.has(scope) && !IDENTITY_SCOPES.has(scope));
    if (foreign.length > 0) throw new InvalidScope('a scope is not offered by the resources asked for');
  }

  /** The names a person reads on the consent page for these resources. */
  namesOf(resources: readonly string[]): string[] {
    return resources.map((uri) => this.find(uri)?.name ?? uri);
  }
}
