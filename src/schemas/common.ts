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
