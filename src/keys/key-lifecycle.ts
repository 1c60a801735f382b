import type { CommandBus } from '@nestjs/cqrs';
import type { SigningKeyDocument } from '../read-model/documents.js';
import type { ReadModel } from '../read-model/read-model.js';
import { ActivateSigningKey, RetireSigningKey, SupersedeSigningKey } from '../commands/registration.commands.js';
import { commandContext } from '../cqrs/command-context.js';
import { ConcurrencyConflict } from '../cqrs/decide-and-append.js';
import { InvalidRequest } from '../domain/oauth-errors.js';
import type { Logger } from '../observability/logger.js';

/** Slack on top of the access token lifetime before a superseded key is retired. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * Moves signing keys along their staged life: a published key becomes active once its
 * activation time has come (every verifier has had time to see it), the key it replaces
 * is superseded but still verifies until every token it signed has expired, then it is
 * retired. Every instance may run this; a step another one took first is simply skipped.
 */
export class KeyLifecycle {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly commandBus: CommandBus,
    private readonly readModel: Pick<ReadModel, 'signingKeys' | 'activeSigningKey' | 'waitFor'>,
    /** The longest any token a key signs lives (access tokens, ID tokens): how long a superseded key keeps verifying. */
    private readonly tokenTtlSeconds: number,
    private readonly logger: Logger,
  ) {}

  private keys(): SigningKeyDocument[] {
    return this.readModel.signingKeys();
  }

  async tick(now = new Date()): Promise<void> {
    const at = now.toISOString();
    for (const key of this.keys().filter((k) => k.status === 'published' && (k.activateAfter ?? '') <= at)) {
      await this.step(new ActivateSigningKey(key.kid, commandContext(undefined, null, now)), `activated signing key ${key.kid}`);
    }
    const retireAfter = new Date(now.getTime() + (this.tokenTtlSeconds + CLOCK_SKEW_SECONDS) * 1000).toISOString();
    // Each algorithm has its own newest key: an RS256 key never supersedes an ES256 one.
    for (const key of this.keys().filter((k) => k.status === 'active')) {
      const newest = this.readModel.activeSigningKey(key.alg)!;
      if (key.kid === newest.kid) continue;
      await this.step(new SupersedeSigningKey(key.kid, newest.kid, retireAfter, commandContext(undefined, null, now)), `superseded signing key ${key.kid}`);
    }
    for (const key of this.keys().filter((k) => k.status === 'superseded' && (k.retireAfter ?? '') <= at)) {
      await this.step(new RetireSigningKey(key.kid, commandContext(undefined, null, now)), `retired signing key ${key.kid}`);
    }
  }

  private async step(command: ActivateSigningKey | SupersedeSigningKey | RetireSigningKey, done: string): Promise<void> {
    try {
      const { position } = await this.commandBus.execute(command);
      await this.readModel.waitFor(position);
      this.logger.info(done);
    } catch (error) {
      // Another instance took this step first.
      if (!(error instanceof InvalidRequest) && !(error instanceof ConcurrencyConflict)) throw error;
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((error: unknown) => this.logger.error('signing key lifecycle failed', { error: (error as Error)?.message }))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
