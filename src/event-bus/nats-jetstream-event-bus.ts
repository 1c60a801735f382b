import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type ConsumerMessages,
} from '@nats-io/jetstream';
import type { RecordedEvent } from '../event-store/event-envelope.js';
import { SUBJECT_PREFIX, subjectOf, type BusConsumer, type ConsumeOptions, type EventBus, type EventHandler } from './event-bus.js';

export const STREAM_NAME = 'OAUTH';

export interface NatsBusOptions {
  /** How long one publish may wait for JetStream's acknowledgement. */
  publishTimeoutMs?: number;
  retryMs?: number;
}

/**
 * NATS JetStream as the integration bus: one stream, OAUTH, over `oauth.>`.
 * The event id is the JetStream message id, so a relay that publishes again after a
 * crash is deduplicated by the server.
 */
export class NatsJetStreamEventBus implements EventBus {
  private readonly consumers = new Set<BusConsumer>();
  private connected = true;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: Required<NatsBusOptions>,
  ) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') this.connected = false;
        if (status.type === 'reconnect') this.connected = true;
      }
    })();
  }

  static async connect(servers: string, options: NatsBusOptions = {}): Promise<NatsJetStreamEventBus> {
    // Reconnect forever: when NATS is away the store keeps the record and the relay catches up.
    const nc = await connect({ servers, name: 'oauth-es', reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(STREAM_NAME);
    } catch {
      await jsm.streams.add({ name: STREAM_NAME, subjects: [`${SUBJECT_PREFIX}.>`] });
    }
    return new NatsJetStreamEventBus(nc, jetstream(nc), jsm, { publishTimeoutMs: 2000, retryMs: 250, ...options });
  }

  /**
   * Publishes pipelined but chained: each message after the first expects the one before
   * it to be the stream's last message id. If one is lost, every later one is refused,
   * so the stream can never hold an event ahead of an earlier one that is missing.
   */
  async publish(events: RecordedEvent[]): Promise<number> {
    const results = await Promise.allSettled(
      events.map((event, i) =>
        this.js.publish(subjectOf(event), JSON.stringify(event), {
          msgID: event.id,
          timeout: this.options.publishTimeoutMs,
          ...(i > 0 ? { expect: { lastMsgID: events[i - 1].id } } : {}),
        }),
      ),
    );
    const firstFailure = results.findIndex((r) => r.status === 'rejected');
    return firstFailure === -1 ? events.length : firstFailure;
  }

  async consume(durableName: string, filterSubject: string, handler: EventHandler, options: ConsumeOptions = {}): Promise<BusConsumer> {
    if (options.fromStart) {
      // A durable consumer keeps its place across an add; only a new one starts at the first message.
      await this.jsm.consumers.delete(STREAM_NAME, durableName).catch(() => false);
    }
    await this.jsm.consumers.add(STREAM_NAME, {
      durable_name: durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: filterSubject,
    });
    const consumer = await this.js.consumers.get(STREAM_NAME, durableName);
    let stopped = false;
    let messages: ConsumerMessages | undefined;
    const loop = (async () => {
      while (!stopped) {
        try {
          messages = await consumer.consume({ max_messages: 256 });
          for await (const message of messages) {
            const event = message.json<RecordedEvent>();
            // Retry in place rather than nak: a redelivery later would break the order.
            for (;;) {
              try {
                await handler(event);
                break;
              } catch {
                if (stopped) return;
                message.working();
                await new Promise((r) => setTimeout(r, this.options.retryMs));
              }
            }
            message.ack();
          }
        } catch {
          if (!stopped) await new Promise((r) => setTimeout(r, this.options.retryMs));
        }
      }
    })();
    const handle: BusConsumer = {
      pending: async () => {
        const info = await consumer.info();
        return info.num_pending + info.num_ack_pending;
      },
      stop: async () => {
        stopped = true;
        messages?.stop();
        await loop;
        this.consumers.delete(handle);
      },
    };
    this.consumers.add(handle);
    return handle;
  }

  isConnected(): boolean {
    return !this.nc.isClosed() && this.connected;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await this.nc.drain().catch(() => this.nc.close());
  }
}
