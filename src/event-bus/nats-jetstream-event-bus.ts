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
import { PublisherFenced, SUBJECT_PREFIX, type BusConsumer, type BusPublisher, type ConsumeOptions, type EventBus, type EventHandler } from './event-bus.js';
import { FencedJetStreamPublisher, TAKEOVER_SUBJECT } from './fenced-jetstream-publisher.js';

export const STREAM_NAME = 'OAUTH';

export interface NatsBusOptions {
  /** How long one publish may wait for JetStream's acknowledgement. */
  publishTimeoutMs?: number;
  retryMs?: number;
}

/**
 * NATS JetStream as the integration bus: one stream, OAUTH, over `oauth.>` (and the relay's
 * takeover markers, outside it). The event id is the JetStream message id, and a publisher
 * is fenced by the server once another took over (see FencedJetStreamPublisher).
 */
export class NatsJetStreamEventBus implements EventBus {
  private readonly consumers = new Set<BusConsumer>();
  private connected = true;
  private own: Promise<BusPublisher> | undefined;

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
    let subjects: string[] | undefined;
    try {
      subjects = (await jsm.streams.info(STREAM_NAME)).config.subjects;
    } catch {
      await jsm.streams.add({ name: STREAM_NAME, subjects: [`${SUBJECT_PREFIX}.>`, TAKEOVER_SUBJECT] });
    }
    // A stream made before the relay was fenced learns the markers' subject.
    if (subjects && !subjects.includes(TAKEOVER_SUBJECT)) await jsm.streams.update(STREAM_NAME, { subjects: [...subjects, TAKEOVER_SUBJECT] });
    return new NatsJetStreamEventBus(nc, jetstream(nc), jsm, { publishTimeoutMs: 2000, retryMs: 250, ...options });
  }

  takeOver(name: string): Promise<BusPublisher> {
    return FencedJetStreamPublisher.takeOver(this.js, this.jsm, STREAM_NAME, name, this.options.publishTimeoutMs);
  }

  async publish(events: RecordedEvent[]): Promise<number> {
    this.own ??= this.takeOver('oauth-es').catch((error: unknown) => {
      this.own = undefined;
      throw error;
    });
    try {
      return await (await this.own).publish(events);
    } catch (error) {
      // Fenced (what this batch got in before the fence; nothing, once fenced before it), or
      // the takeover itself could not reach the server (tried again next time).
      return error instanceof PublisherFenced ? error.acknowledged : 0;
    }
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
            // A filter wider than `oauth.>` also matches the relay's markers: they are not events.
            if (message.subject === TAKEOVER_SUBJECT) {
              message.ack();
              continue;
            }
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
