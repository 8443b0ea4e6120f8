import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Errors } from '../errors.js';
import { DEFAULT_TEMPLATE } from '../generators/templates.js';
import { VERSIONED_API } from '../plugins/api-version.js';
import { ErrorResponse } from '../schemas/common.js';
import { toIdeaDetail } from '../http/ideas.js';
import { unstorableReason, visibleLength } from '../http/idea-text.js';
import { IdeaDetail } from '../schemas/ideas.js';
import { GenerateAccepted, GenerateBody, IDEA_MAX_CHARS, IDEA_MIN_CHARS } from '../schemas/jobs.js';

/** POST /api/generate: accept an idea as a job (202), or with ?wait=true answer once it has ended. */
const generateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config } = app;

  app.post(
    '/api/generate',
    {
      schema: {
        tags: ['generate'],
        summary: 'Submit an idea; returns the job to follow',
        description: `The idea must be ${IDEA_MIN_CHARS}–${IDEA_MAX_CHARS} characters after trimming, in any language and script, counted as a person sees them (grapheme clusters; zero-width and other invisible characters and lone combining marks do not count); it is stored exactly as sent. A NUL character or an unpaired surrogate cannot be stored exactly and is a 400. The same Idempotency-Key returns the same job. With ?wait=true the call blocks until the job ends and answers like GET /api/spec/:id. With webhookUrl, the job's final event is POSTed there when it ends (400 when the URL is refused: not https, or a loopback, private, link-local or metadata address). 503 with Retry-After: QUEUE_FULL, GENERATOR_UNAVAILABLE (circuit open), SHUTTING_DOWN, or QUEUE_UNAVAILABLE (cluster mode: Redis did not take the job in time; nothing was stored).`,
        body: GenerateBody,
        querystring: Type.Object({ wait: Type.Optional(Type.Boolean({ description: 'Block until the job ends' })) }),
        headers: Type.Object({
          'idempotency-key': Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 255,
              pattern: '^[\\x21-\\x7E]+$',
              description: 'Repeat a request safely: the same key returns the same job',
            }),
          ),
        }),
        response: {
          200: IdeaDetail,
          202: GenerateAccepted,
          400: ErrorResponse,
          422: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
      config: { rateLimit: { max: config.GENERATE_RATE_LIMIT_MAX, timeWindow: config.GENERATE_RATE_LIMIT_WINDOW_MS } },
    },
    async (request, reply) => {
      const { idea, template = DEFAULT_TEMPLATE, model, webhookUrl } = request.body;
      const unstorable = unstorableReason(idea);
      if (unstorable) throw new Errors.InvalidIdea(`The idea cannot be stored exactly as sent: ${unstorable}`);
      const length = visibleLength(idea);
      if (length < IDEA_MIN_CHARS)
        throw new Errors.InvalidIdea(
          `The idea is too short: ${length} characters a person can see, at least ${IDEA_MIN_CHARS} needed`,
        );
      if (length > IDEA_MAX_CHARS)
        throw new Errors.InvalidIdea(
          `The idea is too long: ${length} characters a person can see, at most ${IDEA_MAX_CHARS} allowed`,
        );

      if (webhookUrl !== undefined) await app.webhooks.checkTarget(webhookUrl);

      let submitted;
      try {
        submitted = await app.jobs.submit({
          idea,
          template,
          model,
          idempotencyKey: request.headers['idempotency-key'],
        });
      } catch (err) {
        if (
          err instanceof Errors.QueueFull ||
          err instanceof Errors.QueueUnavailable ||
          err instanceof Errors.ShuttingDown
        )
          void reply.header('retry-after', '5');
        if (err instanceof Errors.GeneratorUnavailable) {
          const nextProbeAt = app.circuit.state().nextProbeAt;
          const seconds = nextProbeAt ? Math.ceil((Date.parse(nextProbeAt) - Date.now()) / 1000) : 5;
          void reply.header('retry-after', String(Math.max(1, seconds)));
        }
        throw err;
      }
      if (!submitted.created) void reply.header('idempotent-replayed', 'true');
      // On a replay too: a client whose first try got no answer (the service stopped in between) retries with its key,
      // and the webhook is stored then. An idea keeps the first webhook it was given.
      if (webhookUrl !== undefined) await app.webhooks.register(submitted.ideaId, submitted.jobId, webhookUrl);

      if (request.query.wait) {
        // A client that hangs up stops the wait, not the job.
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        if (!(await app.jobs.waitForEnd(submitted.jobId, gone.signal))) return reply;
        const row = await app.ideas.findById(submitted.ideaId);
        if (!row) throw new Errors.IdeaNotFound(submitted.ideaId);
        return reply.code(200).send(toIdeaDetail(row));
      }

      // Answered in the version the client called: /api/v1/… from /api/v1/generate, the unversioned aliases otherwise.
      const api = request.routeOptions.url?.startsWith(`${VERSIONED_API}/`) ? VERSIONED_API : '/api';
      const statusUrl = `${api}/job/${submitted.jobId}/status`;
      return reply
        .code(202)
        .header('location', statusUrl)
        .send({
          jobId: submitted.jobId,
          id: submitted.ideaId,
          status: submitted.status,
          statusUrl,
          eventsUrl: `${api}/job/${submitted.jobId}/events`,
          websocketUrl: `${request.protocol === 'https' ? 'wss' : 'ws'}://${request.host}${api}/ws`,
        });
    },
  );
};

export default generateRoutes;
