import { randomUUID } from 'node:crypto';
import { uuidv7 } from '../domain/crypto.js';

/** What a command knows of the world outside it: the clock, ids, and what caused it. */
export interface CommandContext {
  now: Date;
  correlationId: string;
  causationId: string | null;
  newId(): string;
}

export function commandContext(correlationId: string = randomUUID(), causationId: string | null = null, now = new Date()): CommandContext {
  // Time-ordered ids (events, grants): see uuidv7.
  return { now, correlationId, causationId, newId: () => uuidv7() };
}
