import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { ErrorResponse } from '../schemas/common.js';

/** Asset names carry a content hash: a name never changes content, so browsers may keep it for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * GET / and GET /ideas/:id: the web app's one page (the app reads the path itself, so a deep link
 * opens the idea). The page names the current assets, so it is never cached. GET /assets/:name: its
 * script, style and source maps.
 */
const webAppRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const page = async (_request: unknown, reply: FastifyReply) => {
    const body = app.webApp.page;
    void reply.header('cache-control', 'no-store');
    if (!body)
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web app is not built: run `npm run build`, then restart the service.');
    return reply.type('text/html; charset=utf-8').send(body);
  };
  const pageSchema = { hide: true, response: { 200: Type.String(), 503: Type.String() } };

  app.get('/', { schema: pageSchema }, page);
  app.get(
    '/ideas/:id',
    { schema: { ...pageSchema, params: Type.Object({ id: Type.String({ maxLength: 32 }) }) } },
    page,
  );

  app.get(
    '/assets/:name',
    {
      schema: {
        hide: true,
        params: Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9]+)+$', maxLength: 100 }) }),
        response: { 200: Type.Any({ description: 'The file' }), 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const asset = app.webApp.asset(request.params.name);
      if (!asset) return reply.callNotFound();
      return reply.type(asset.type).header('cache-control', IMMUTABLE).send(asset.body);
    },
  );
};

export default webAppRoutes;
