import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { projectRoot } from '../paths.js';

const ASSETS = join(projectRoot, 'public', 'status');

/**
 * GET /status: the live dashboard. Three files of the service's own, loaded once;
 * the page draws its charts itself and polls the JSON endpoints, so it needs
 * nothing from another origin and no inline script or style.
 */
const statusPageRoutes: FastifyPluginAsync = async (app) => {
  const [html, script, style] = await Promise.all(
    ['index.html', 'status.js', 'status.css'].map((f) => readFile(join(ASSETS, f))),
  );
  const serve = (body: Buffer, type: string) => async (_request: unknown, reply: FastifyReply) =>
    reply.type(type).header('cache-control', 'no-cache').send(body);

  app.get(
    '/status',
    { schema: { tags: ['health'], summary: 'The live monitoring dashboard (HTML)', produces: ['text/html'] } },
    serve(html, 'text/html; charset=utf-8'),
  );
  app.get('/status/status.js', { schema: { hide: true } }, serve(script, 'text/javascript; charset=utf-8'));
  app.get('/status/status.css', { schema: { hide: true } }, serve(style, 'text/css; charset=utf-8'));
};

export default statusPageRoutes;
