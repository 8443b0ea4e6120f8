import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifySchemaCompiler } from 'fastify';

/** Fastify's own Ajv options but these: additional properties are refused (not dropped), and the first error is enough. */
const OPTIONS = { removeAdditional: false, allErrors: false } as const;

/**
 * Fastify's Ajv, in two instances. A path, a query string and headers are text, so their values
 * are coerced to the schema's types ("true" is true, "12" is 12). A JSON body has types of its
 * own, so it is not: with one Ajv for all, `{"idea": null}` became "" and was answered "must NOT
 * have fewer than 1 characters", `{"model": null}` a pattern error, and `{"idea": 1234567890}` an
 * idea; each is now "must be string".
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const build = AjvCompiler();
  const body = build({}, { customOptions: { ...OPTIONS, coerceTypes: false } });
  const text = build({}, { customOptions: OPTIONS });
  return (route) => {
    const compile = route.httpPart === 'body' ? body : text;
    return compile(route as AjvCompiler.RouteDefinition) as ReturnType<FastifySchemaCompiler<unknown>>;
  };
}
