import { FormatRegistry } from '@sinclair/typebox';

/** Formats for TypeBox's own checker (Fastify's Ajv has them already); used outside HTTP, e.g. on WebSocket frames. */
/**
 * A UUID as the service writes job ids: the 36-character form, either case. Fastify's Ajv (ajv-formats)
 * also takes `urn:uuid:…` as a uuid, which no lookup knows: schemas that take a job id add this pattern.
 */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const UUID = new RegExp(UUID_PATTERN);

if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (value) => UUID.test(value));
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => !Number.isNaN(Date.parse(value)));
