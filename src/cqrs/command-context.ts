import { randomUUID } from 'node:crypto';

/** What a command knows of the world outside it: the clock, ids, and what caused it. */
export interface CommandContext {
  now: Date;
  correlationId: string;
  causationId: string | null;
  newId(): string;
}

export function commandContext(correlationId: string = randomUUID(), causationId: string | null = null, now = new Date()): CommandContext {
  return { now, correlationId, causationId, newId: randomUUID };
}
