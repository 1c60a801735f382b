/**
 * A downstream service anyone can copy: it follows the token lifecycle (the grant
 * events) on NATS JetStream with a durable consumer, prints each event as a JSON line,
 * and acknowledges it only after printing. Stopped and started again, it resumes where it
 * stopped and misses nothing in between: the durable consumer remembers its place.
 * It needs nothing from this project but the NATS client.
 */
import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';

export interface SubscribeOptions {
  natsUrl: string;
  /** The durable consumer's name: keep it, and a restart resumes where it stopped. */
  durable: string;
  subject: string;
  print(line: string): void;
}

export interface Subscriber {
  stop(): Promise<void>;
}

export async function subscribe(options: SubscribeOptions): Promise<Subscriber> {
  const nc = await connect({ servers: options.natsUrl, reconnect: true, maxReconnectAttempts: -1 });
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add('OAUTH', {
    durable_name: options.durable,
    filter_subject: options.subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const consumer = await jetstream(nc).consumers.get('OAUTH', options.durable);
  const messages: ConsumerMessages = await consumer.consume();
  const done = (async () => {
    for await (const message of messages) {
      options.print(message.string());
      message.ack();
    }
  })();
  return {
    async stop() {
      messages.stop();
      await done;
      await nc.drain();
    },
  };
}
