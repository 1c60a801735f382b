import { NatsJetStreamEventBus } from '../../src/event-bus/nats-jetstream-event-bus.js';
import { waitFor } from './wait-for.js';

/**
 * The ids a fresh durable consumer receives from the OAUTH stream once it holds at least
 * `count` events (and a moment more, so duplicates would show).
 */
export async function idsOnJetStream(natsUrl: string, durable: string, count: number): Promise<string[]> {
  const bus = await NatsJetStreamEventBus.connect(natsUrl);
  const seen: string[] = [];
  const consumer = await bus.consume(durable, 'oauth.>', async (event) => void seen.push(event.id));
  try {
    await waitFor(() => seen.length >= count, `${count} events on NATS`, 10_000);
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    await consumer.stop();
    await bus.close();
  }
  return seen;
}
