import type { NewEvent, RecordedEvent } from '../event-store/event-envelope.js';
import { WrongExpectedVersionError, type AppendResult, type BatchHandler, type EventStore, type ExpectedRevision, type Subscription } from '../event-store/event-store.js';
import type { Metrics } from './metrics.js';

/** Times every append, counts lost races, and counts tokens, revocations and failed logins as they are recorded. */
export class InstrumentedEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly metrics: Metrics,
  ) {}

  async append(stream: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const end = this.metrics.appendSeconds.startTimer();
    try {
      const result = await this.inner.append(stream, events, expected);
      for (const event of events) this.count(event);
      return result;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) this.metrics.concurrencyConflicts.inc();
      throw error;
    } finally {
      end();
    }
  }

  private count(event: NewEvent): void {
    const data = event.data;
    switch (event.type) {
      case 'AccessTokenIssued':
        return this.metrics.tokensIssued.inc({ grant_type: String(data.grantType) });
      case 'TokenRevoked':
        return this.metrics.tokensRevoked.inc({ kind: 'access_token', reason: 'revoked' });
      case 'GrantRevoked':
        return this.metrics.tokensRevoked.inc({ kind: 'grant', reason: String(data.reason) });
      case 'LoginFailed':
        return this.metrics.loginFailures.inc({ reason: String(data.reason) });
    }
  }

  readStream(stream: string, fromRevision?: number): Promise<RecordedEvent[]> {
    return this.inner.readStream(stream, fromRevision);
  }
  readAll(after: number, limit: number): Promise<RecordedEvent[]> {
    return this.inner.readAll(after, limit);
  }
  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }
  countAfter(position: number, atMost: number): Promise<number> {
    return this.inner.countAfter(position, atMost);
  }
  subscribeAll(after: number, handler: BatchHandler): Subscription {
    return this.inner.subscribeAll(after, handler);
  }
  checkWritable(): Promise<void> {
    return this.inner.checkWritable();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
