import type { Lease } from '../checkpoints/lease.js';
import { randomUUID } from 'node:crypto';
import type { Ports } from '../commands/ports.js';
import { commandContext } from '../cqrs/command-context.js';
import { decideAndAppend } from '../cqrs/decide-and-append.js';
import { backChannelLogoutDecider, type BackChannelLogoutCommand } from '../domain/back-channel-logout.js';
import { streams } from '../domain/events.js';
import { idTokenAlgOf } from '../grants/token-grant.js';
import type { Logger } from '../observability/logger.js';
import type { ClientDocument, PendingBackChannelLogout } from '../read-model/documents.js';

export const BACK_CHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const LOGOUT_TOKEN_SECONDS = 120;

export interface BackChannelLogoutOptions {
  /** Attempts per client before it is given up (BackChannelLogoutFailed). */
  attempts: number;
  /** The wait after the first failure, doubled after each next one. */
  retryMs: number;
  /** How long a receiver has to answer. */
  timeoutMs: number;
  /** How often the owed logouts are looked at. */
  intervalMs: number;
}

interface Attempts {
  count: number;
  nextAt: number;
}

/**
 * OpenID Connect Back-Channel Logout 1.0, driven by the record: when a sign-in session
 * ends (signed out here or elsewhere, by a relying party, replaced, the user disabled),
 * every client that got an ID token in it and registered a `backchannel_logout_uri` is
 * sent a logout token by HTTP POST, never inside the user's request.
 *
 * What is owed is read from the read side (the back-channel-logouts projection, folded
 * from the record), so a restart, or another instance taking over, finds it all again;
 * each outcome goes on record (BackChannelLogoutDelivered, or BackChannelLogoutFailed
 * after the last attempt), which takes it off the list. A receiver that is down is tried
 * again later, with the wait doubling, and holds up nobody else: each delivery is its own.
 * With several instances on one data directory, the holder of the lease sends.
 */
export class BackChannelLogoutDeliverer {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly attempts = new Map<string, Attempts>();
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly ports: Pick<Ports, 'readModel' | 'streams' | 'signer' | 'config'>,
    private readonly lease: Pick<Lease, 'tryAcquire'> | undefined,
    private readonly logger: Logger,
    private readonly options: BackChannelLogoutOptions,
  ) {}

  start(): void {
    // One tick at a time: a slow lease renewal (the database far away) must not pile them up.
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Starts a delivery for each logout owed whose time has come; one at a time per client and session. */
  async tick(now = Date.now()): Promise<void> {
    if (this.lease && !(await this.lease.tryAcquire())) return;
    for (const owed of this.ports.readModel.pendingBackChannelLogouts()) {
      const client = this.ports.readModel.activeClient(owed.clientId);
      if (!client?.backchannelLogoutUri) continue;
      const key = `${owed.signInSessionId}/${owed.clientId}`;
      if (this.inFlight.has(key) || (this.attempts.get(key)?.nextAt ?? 0) > now) continue;
      const delivery = this.deliver(key, owed, client).catch((error) => {
        this.logger.error('back-channel logout could not be recorded', { clientId: owed.clientId, error: (error as Error)?.name });
      });
      this.inFlight.set(key, delivery.finally(() => this.inFlight.delete(key)));
    }
  }

  private async deliver(key: string, owed: PendingBackChannelLogout, client: ClientDocument): Promise<void> {
    const jti = randomUUID();
    let outcome: string;
    try {
      const response = await fetch(client.backchannelLogoutUri!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: await this.logoutToken(owed, client, jti) }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body?.cancel();
      outcome = response.ok ? 'ok' : `HTTP ${response.status}`;
    } catch (error) {
      outcome = (error as Error)?.name ?? 'error';
    }
    const tried = (this.attempts.get(key)?.count ?? 0) + 1;
    const common = { signInSessionId: owed.signInSessionId, clientId: owed.clientId, userId: owed.userId, attempts: tried };
    if (outcome !== 'ok' && tried < this.options.attempts) {
      this.attempts.set(key, { count: tried, nextAt: Date.now() + this.options.retryMs * 2 ** (tried - 1) });
      this.logger.info('back-channel logout not accepted; trying again later', { clientId: owed.clientId, attempt: tried, outcome });
      return;
    }
    const command: BackChannelLogoutCommand =
      outcome === 'ok' ? { kind: 'RecordBackChannelLogoutDelivered', ...common, jti } : { kind: 'RecordBackChannelLogoutFailed', ...common, lastError: outcome };
    const { position } = await decideAndAppend(this.ports.streams, streams.backChannelLogout(owed.signInSessionId), backChannelLogoutDecider, command, commandContext());
    // Off the list only once the read side has the outcome: until then the next tick would send again.
    if (position > 0) await this.ports.readModel.waitFor(position);
    this.attempts.delete(key);
    if (outcome !== 'ok') this.logger.error('back-channel logout given up', { clientId: owed.clientId, attempts: tried, outcome });
  }

  /** OpenID Connect Back-Channel Logout 1.0 section 2.4, signed as the client's ID tokens are. */
  private async logoutToken(owed: PendingBackChannelLogout, client: ClientDocument, jti: string): Promise<string> {
    const alg = idTokenAlgOf(client);
    const key = this.ports.readModel.activeSigningKey(alg);
    if (!key) throw new Error(`no active ${alg} signing key`);
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      iss: this.ports.config.issuer,
      aud: client.clientId,
      iat,
      exp: iat + LOGOUT_TOKEN_SECONDS,
      jti,
      sub: owed.userId,
      sid: owed.signInSessionId,
      events: { [BACK_CHANNEL_LOGOUT_EVENT]: {} },
    };
    return this.ports.signer.sign(claims, key.kid, 'logout+jwt');
  }

  /** Stops looking, and lets the deliveries under way finish (their outcome on record, or owed again at the next start). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    await Promise.all(this.inFlight.values());
  }
}
