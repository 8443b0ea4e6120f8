import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DatabaseUnreachable } from '../db/remote-fetch.js';
import { Errors } from '../errors.js';
import type { ErrorResponse } from '../schemas/common.js';

/** SQLite / libSQL conditions that mean "the database cannot serve right now", not "the request is wrong". */
const DATABASE_UNAVAILABLE =
  /SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|CORRUPT|NOTADB)|database is locked|disk is full|readonly database|ECONNREFUSED/i;

/**
 * One error shape for every route: {statusCode, code, error, message, requestId}
 * (+ details for validation). 5xx answers never carry internals.
 */
export default fp(
  async function errorsPlugin(app) {
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      done();
    });

    // Ajv's type coercion turns "1e309" into Infinity and then passes it as an integer within any bounds;
    // no number in a path or query string is meant to be infinite.
    app.addHook('preHandler', (request, _reply, done) => {
      const bad = nonFiniteField(request.params, 'params') ?? nonFiniteField(request.query, 'querystring');
      if (bad) return done(new Errors.InvalidNumber(bad));
      done();
    });

    app.setErrorHandler((err: FastifyError & { headers?: Record<string, string> }, request, reply) => {
      const body = toErrorBody(err, request.id);
      if (body.statusCode >= 500) request.log.error({ err, statusCode: body.statusCode }, 'request failed');
      else
        request.log.info({ code: body.code, statusCode: body.statusCode, message: body.message }, 'request rejected');
      if (err.headers) void reply.headers(err.headers);
      void reply.status(body.statusCode).send(body);
    });

    // Which methods each route path takes: a known path asked with another method is a 405 naming them.
    const routes: Array<{ path: RegExp; methods: Set<string> }> = [];
    const byUrl = new Map<string, Set<string>>();
    app.addHook('onRoute', (route) => {
      // Catch-alls (the web app's pages, CORS preflights) would claim every path.
      if (route.url.includes('*')) return;
      let methods = byUrl.get(route.url);
      if (!methods) {
        methods = new Set();
        byUrl.set(route.url, methods);
        routes.push({ path: routePattern(route.url), methods });
      }
      for (const method of [route.method].flat()) methods.add(method);
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0]!;
      const allowed = [...new Set(routes.filter((r) => r.path.test(path)).flatMap((r) => [...r.methods]))].sort();
      // A route that takes this method and found nothing (an asset that is not there) is a 404.
      if (allowed.length > 0 && !allowed.includes(request.method)) {
        void reply
          .status(405)
          .header('allow', allowed.join(', '))
          .send({
            statusCode: 405,
            code: 'METHOD_NOT_ALLOWED',
            error: STATUS_CODES[405]!,
            message: `${path} does not take ${request.method}; it takes ${allowed.join(', ')}`,
            requestId: request.id,
          } satisfies ErrorResponse);
        return;
      }
      void reply.status(404).send({
        statusCode: 404,
        code: 'ROUTE_NOT_FOUND',
        error: STATUS_CODES[404]!,
        message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
        requestId: request.id,
      } satisfies ErrorResponse);
    });
  },
  { name: 'errors' },
);

/** A route's path as a pattern of request paths: each `:param` one segment. */
function routePattern(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+)/)
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * For Fastify's `frameworkErrors` option: errors raised before routing (a URL with
 * invalid percent-encoding, an over-long parameter) get the same shape and request id.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void reply
    .status(err.statusCode ?? 400)
    .header('x-request-id', request.id)
    .send(toErrorBody(err, request.id));
}

/**
 * Drizzle wraps the driver's error ("Failed query: …") and keeps the SQLite code in `cause`, and the
 * libSQL client wraps a dead server's in a closed stream's, so the whole chain is read.
 */
function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DatabaseUnreachable) return true;
    if (DATABASE_UNAVAILABLE.test(`${(e as { code?: unknown }).code ?? ''} ${e.message}`)) return true;
  }
  return false;
}

function nonFiniteField(values: unknown, where: string): string | undefined {
  if (typeof values !== 'object' || values === null) return undefined;
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'number' && !Number.isFinite(value)) return `${where}/${key}`;
  }
  return undefined;
}

type ValidationIssue = NonNullable<FastifyError['validation']>[number];

/**
 * Ajv reports a value outside a union of constants (an enum written as
 * literals) as "must be equal to constant" once per member, then "must match a
 * schema in anyOf" (and "must be string" too, for a value of another type): one
 * line per field naming the allowed values says it better.
 * Fields with any other kind of error keep Ajv's own messages.
 */
function validationDetails(validation: ValidationIssue[], context: string): Array<{ path: string; message: string }> {
  const pathOf = (v: ValidationIssue) => `${context}${v.instancePath || ''}` || '/';
  const allowed = new Map<string, unknown[]>();
  const other = new Set<string>();
  for (const v of validation) {
    const values =
      v.keyword === 'const'
        ? [v.params.allowedValue]
        : v.keyword === 'enum'
          ? (v.params.allowedValues as unknown[])
          : undefined;
    if (values) allowed.set(pathOf(v), [...(allowed.get(pathOf(v)) ?? []), ...values]);
    // A value of the wrong type (null for a name) fails each member on its type first: the same answer.
    else if (v.keyword !== 'anyOf' && v.keyword !== 'type') other.add(pathOf(v));
  }
  const named = new Set<string>();
  const details: Array<{ path: string; message: string }> = [];
  for (const v of validation) {
    const path = pathOf(v);
    const values = allowed.get(path);
    if (values && !other.has(path)) {
      if (named.has(path)) continue;
      named.add(path);
      details.push({ path, message: `must be one of ${values.map((value) => JSON.stringify(value)).join(', ')}` });
    } else {
      details.push({ path, message: v.message ?? 'is invalid' });
    }
  }
  return details;
}

export function toErrorBody(err: FastifyError, requestId: string): ErrorResponse {
  if (err.validation) {
    const details = validationDetails(err.validation, err.validationContext ?? '');
    return {
      statusCode: 400,
      code: 'FST_ERR_VALIDATION',
      error: STATUS_CODES[400]!,
      message: details.map((d) => `${d.path} ${d.message}`).join(', '),
      requestId,
      details,
    };
  }
  if (!err.statusCode && isDatabaseUnavailable(err)) {
    return {
      statusCode: 503,
      code: 'DATABASE_UNAVAILABLE',
      error: STATUS_CODES[503]!,
      message: 'The database is temporarily unavailable; try again shortly',
      requestId,
    };
  }
  const statusCode = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  // Errors raised on purpose (a code and a status) say what happened; anything else at 5xx is an internal detail.
  const deliberate =
    statusCode < 500 ||
    (typeof err.code === 'string' && err.statusCode !== undefined && !err.code.startsWith('FST_ERR_'));
  return {
    statusCode,
    code: deliberate && typeof err.code === 'string' ? err.code : statusCode >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST',
    error: STATUS_CODES[statusCode] ?? 'Error',
    message: deliberate
      ? err.message
      : 'Something went wrong on our side; the error has been logged with this requestId',
    requestId,
  };
}
