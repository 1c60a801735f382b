import { join } from 'node:path';
import { MemoryCheckpointStore, type CheckpointStore } from '../checkpoints/checkpoint-store.js';
import type { Config } from '../config/config.js';
import type { EventBus } from '../event-bus/event-bus.js';
import { InProcessEventBus } from '../event-bus/in-process-event-bus.js';
import type { EventStore } from '../event-store/event-store.js';
import { EventStoreDbEventStore } from '../event-store/eventstoredb-event-store.js';
import { PostgresEventStore } from '../event-store/postgres-event-store.js';
import { SqliteEventStore } from '../event-store/sqlite-event-store.js';
import { UpcastingEventStore } from '../event-store/upcasting-event-store.js';
import { upcast } from '../domain/event-catalog.js';
import type { Logger } from '../observability/logger.js';
import type { SharedState } from '../shared-state/shared-state.js';

/**
 * EventStoreDB or PostgreSQL when its connection string is set (config.ts refuses both),
 * otherwise the SQLite file in the data directory: events as written.
 * `log` hears of a follower that cannot read the store.
 */
export function openRawEventStore(config: Config, log?: Pick<Logger, 'error' | 'info'>): EventStore {
  if (config.eventStoreDbUrl) return new EventStoreDbEventStore(config.eventStoreDbUrl, { log });
  if (config.databaseUrl) return new PostgresEventStore(config.databaseUrl, { log });
  return new SqliteEventStore(join(config.dataDir, 'events.sqlite'), { log });
}

/** The store as the application reads it: every event lifted to its current schema version. */
export function openEventStore(config: Config, log?: Pick<Logger, 'error' | 'info'>): EventStore {
  return new UpcastingEventStore(openRawEventStore(config, log), upcast);
}

/** NATS JetStream when NATS_URL is set (its client loaded only then), otherwise the in-process bus. */
export async function openEventBus(config: Config): Promise<EventBus> {
  // The in-process bus can only be read in this process: by its resource server, if it runs one.
  if (!config.natsUrl) return new InProcessEventBus(undefined, config.services.includes('resource-server'));
  const { NatsJetStreamEventBus } = await import('../event-bus/nats-jetstream-event-bus.js');
  return NatsJetStreamEventBus.connect(config.natsUrl);
}

/**
 * The relay's checkpoint lives as long as what it publishes to: on disk for JetStream,
 * in memory for the in-process bus, which starts empty and must be filled again.
 */
export function relayCheckpoints(config: Config, shared: Pick<SharedState, 'checkpoints'>): CheckpointStore {
  return config.natsUrl ? shared.checkpoints() : new MemoryCheckpointStore();
}
