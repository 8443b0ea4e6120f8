import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Errors } from '../errors.js';
import { ErrorResponse } from '../schemas/common.js';
import { downloadFileName } from '../http/download-name.js';
import { parseIdeaId, toIdeaDetail, toWebhookDelivery } from '../http/ideas.js';
import { IdeaDetail, IdeaIdParams } from '../schemas/ideas.js';

/** One idea: read it whole, or download its specification as Markdown. */
const specRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const findIdea = async (raw: string) => {
    const id = parseIdeaId(raw);
    const row = id === undefined ? undefined : await app.ideas.findById(id);
    if (!row) throw new Errors.IdeaNotFound(raw);
    return row;
  };

  app.get(
    '/api/spec/:id',
    {
      schema: {
        tags: ['ideas'],
        summary: 'The whole idea with its specification',
        params: IdeaIdParams,
        response: { 200: IdeaDetail, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const row = await findIdea(request.params.id);
      const webhook = await app.webhookDeliveries.findByIdea(row.id);
      return { ...toIdeaDetail(row), ...(webhook ? { webhook: toWebhookDelivery(webhook) } : {}) };
    },
  );

  app.get(
    '/api/download/:id',
    {
      schema: {
        tags: ['ideas'],
        summary: 'Download a completed specification as a Markdown file',
        params: IdeaIdParams,
        produces: ['text/markdown'],
        response: {
          200: Type.String({ description: 'The specification (text/markdown; charset=utf-8)' }),
          400: ErrorResponse,
          404: ErrorResponse,
          409: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const row = await findIdea(request.params.id);
      if (row.status !== 'completed') throw new Errors.SpecNotReady(row.id, row.status);
      const { ascii, utf8 } = downloadFileName(row.id, row.userInput);
      return reply
        .type('text/markdown; charset=utf-8')
        .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`)
        .header('x-content-type-options', 'nosniff')
        .send(row.generatedSpec);
    },
  );
};

export default specRoutes;
