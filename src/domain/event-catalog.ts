import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { RecordedEvent } from '../event-store/event-envelope.js';
import { eventDefinitions, type EventDefinition } from './events.js';

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value));

const definitions = eventDefinitions as Record<string, EventDefinition>;
const checks = new Map<string, TypeCheck<TSchema>>();

/** The schema version new events of this type are written with. */
export const currentSchemaVersion = (type: string): number => definitions[type]?.schemaVersion ?? 1;

/** A decider produced an event its own catalog does not allow: a bug, refused before it is recorded. */
export class InvalidEventData extends Error {
  override readonly name = 'InvalidEventData';
}

/** Checks an event about to be appended against its definition (types not in the catalog pass). */
export function checkEventData(type: string, data: unknown): void {
  const definition = definitions[type];
  if (!definition) return;
  let check = checks.get(type);
  if (!check) checks.set(type, (check = TypeCompiler.Compile(definition.data)));
  if (!check.Check(data)) {
    const first = check.Errors(data).First();
    throw new InvalidEventData(`${type}: ${first ? `${first.path || '/'} ${first.message}` : 'invalid data'}`);
  }
}

/**
 * An event written under an older schema version, read as the current one: each upcaster
 * lifts the data one version. Events already current are returned as they are.
 */
export function upcast(event: RecordedEvent): RecordedEvent {
  const definition = definitions[event.type];
  if (!definition || event.schemaVersion >= definition.schemaVersion) return event;
  let data = event.data;
  for (let version = event.schemaVersion; version < definition.schemaVersion; version++) {
    const lift = definition.upcasters?.[version];
    if (!lift) throw new InvalidEventData(`${event.type}: no upcaster from schema version ${version}`);
    data = lift(data);
  }
  return { ...event, data, schemaVersion: definition.schemaVersion };
}
