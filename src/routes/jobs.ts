import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Errors } from '../errors.js';
import { ErrorResponse } from '../schemas/common.js';
import { JobIdParams, JobSnapshot } from '../schemas/jobs.js';

/** Polling and cancellation: the fallback for clients that cannot keep a WebSocket open. */
const jobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/job/:jobId/status',
    {
      schema: {
        tags: ['generate'],
        summary: 'The job snapshot (polling fallback for the WebSocket)',
        params: JobIdParams,
        response: { 200: JobSnapshot, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const snapshot = await app.jobs.snapshot(request.params.jobId);
      if (!snapshot) throw new Errors.JobNotFound(request.params.jobId);
      return snapshot;
    },
  );

  app.post(
    '/api/job/:jobId/cancel',
    {
      schema: {
        tags: ['generate'],
        summary: 'Cancel a job and kill its generator process',
        params: JobIdParams,
        response: { 202: JobSnapshot, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const snapshot = await app.jobs.cancel(request.params.jobId);
      return reply.code(202).send(snapshot);
    },
  );
};

export default jobRoutes;
