import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable code, e.g. FST_ERR_VALIDATION, JOB_NOT_FOUND' }),
    error: Type.String({ description: 'HTTP reason phrase' }),
    message: Type.String(),
    requestId: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { title: 'Error' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;


export const IsoDate = Type.String({ format: 'date-time' });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Times are stored as epoch milliseconds and served as ISO 8601. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** For optional times: absent stays absent (the field is left out of the response). */
export function isoTimeOrUndefined(ms: number | null | undefined): string | undefined {
  return ms == null ? undefined : isoTime(ms);
}
