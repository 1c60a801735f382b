import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/event-store/event-envelope.js';

export function anEvent(type = 'SomethingHappened', data: Record<string, unknown> = {}): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    schemaVersion: 1,
    time: new Date().toISOString(),
    correlationId: 'test-correlation',
    causationId: null,
  };
}

export const uniqueStream = (category = 'thing') => `${category}-${randomUUID()}`;
