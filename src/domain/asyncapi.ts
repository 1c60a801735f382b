import { eventDefinitions, type EventDefinition } from './events.js';

/** JSON Schema without TypeBox's symbol keys: exactly what JSON carries. */
const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

/**
 * The event catalog as an AsyncAPI 3.0 document, generated from the same definitions the
 * code checks every event against: for each type its NATS subject, schema version, and
 * the JSON Schema of the message (the envelope with the type's data).
 */
export function asyncApiDocument(options: { natsUrl: string | null; version: string }) {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const [type, definition] of Object.entries(eventDefinitions) as Array<[string, EventDefinition]>) {
    const subject = `oauth.${definition.category}.${type}`;
    messages[type] = {
      name: type,
      title: type,
      summary: definition.description,
      contentType: 'application/json',
      'x-schema-version': definition.schemaVersion,
      'x-stream-category': definition.category,
      payload: {
        type: 'object',
        description:
          `${definition.description} Messages carry the schema version they were written with; ` +
          `older versions (${definition.schemaVersion > 1 ? `from 1 to ${definition.schemaVersion - 1}` : 'none so far'}) keep the fields they had.`,
        required: ['id', 'type', 'stream', 'revision', 'position', 'time', 'schemaVersion', 'correlationId', 'causationId', 'data', 'hash'],
        properties: {
          id: { type: 'string', description: 'event id; also the JetStream message id (Nats-Msg-Id)' },
          type: { const: type },
          stream: { type: 'string', pattern: `^${definition.category}-`, description: `${definition.category}-<id>` },
          revision: { type: 'integer', minimum: 0 },
          position: { type: 'integer', minimum: 1, description: 'place in the global log' },
          time: { type: 'string', format: 'date-time' },
          schemaVersion: { type: 'integer', minimum: 1, maximum: definition.schemaVersion },
          correlationId: { type: 'string', description: 'the HTTP request id that caused it: a UUID of the server, followed by / and the X-Request-Id the caller sent when it sent one' },
          causationId: { type: ['string', 'null'] },
          hash: { type: 'string', description: 'SHA-256 chained to the previous event of the stream' },
          data: plain(definition.data),
        },
      },
    };
    channels[type] = { address: subject, title: type, messages: { [type]: { $ref: `#/components/messages/${type}` } } };
    operations[`receive${type}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${type}` },
      messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Event-sourced OAuth 2.0 authorization server: events',
      version: options.version,
      description:
        'Every consent, code and token as an event, on one JetStream stream OAUTH with subjects oauth.<category>.<EventType>. ' +
        'Subscribe with a durable consumer (for example oauth.grant.> for the token lifecycle). No event carries a secret.',
    },
    defaultContentType: 'application/json',
    ...(options.natsUrl ? { servers: { nats: { host: new URL(options.natsUrl).host, protocol: 'nats', description: 'NATS JetStream, stream OAUTH' } } } : {}),
    channels,
    operations,
    components: { messages },
  };
}
