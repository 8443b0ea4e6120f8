import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse } from '../schemas/common.js';

/** GET / : the example page that uses the SDK in a browser; GET /assets/:name its script, style and the SDK bundle. */
const examplePageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const page = { hide: true, response: { 200: Type.String(), 404: ErrorResponse } };

  app.get('/', { schema: page }, async (_request, reply) => {
    const asset = await app.examplePage.asset('index.html');
    return reply.type(asset!.type).header('cache-control', 'no-cache').send(asset!.body);
  });

  app.get(
    '/assets/:name',
    { schema: { ...page, params: Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9]+)+$', maxLength: 100 }) }) } },
    async (request, reply) => {
      const asset = await app.examplePage.asset(request.params.name);
      if (!asset) return reply.callNotFound();
      return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
    },
  );
};

export default examplePageRoutes;
