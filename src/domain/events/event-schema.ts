import { Type, type TSchema } from '@sinclair/typebox';

/**
 * How an event is defined (its stream category, schema version, description, data
 * schema and upcasters), and the schemas definitions share. None carries a secret:
 * codes, tokens and client secrets appear only as SHA-256 hashes or ids, password hashes
 * and private keys never (they live in the secret store).
 */

export interface EventDefinition<Data extends TSchema = TSchema> {
  /** The stream category, also the middle token of the NATS subject. */
  category: 'client' | 'assertion' | 'user' | 'login' | 'session' | 'signingkey' | 'grant' | 'logout' | 'resource' | 'dpop';
  schemaVersion: number;
  description: string;
  data: Data;
  /** upcasters[v] turns data written at schema version v into version v + 1. */
  upcasters?: Record<number, (data: Record<string, unknown>) => Record<string, unknown>>;
}

export const define = <Data extends TSchema>(definition: EventDefinition<Data>) => definition;

export const Iso = Type.String({ format: 'date-time', description: 'ISO 8601 time, UTC' });
export const Id = Type.String({ minLength: 1 });
export const Scopes = Type.Array(Type.String());
/** RFC 8628 section 3.4: the device authorization grant's grant_type. */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
export const GrantTypeSchema = Type.Union([Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials'), Type.Literal(DEVICE_CODE_GRANT_TYPE)]);
export const Sha256 = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'SHA-256, base64url' });

