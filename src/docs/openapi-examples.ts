import type { OpenAPIV3_1 } from 'openapi-types';
import { ALIAS_SUFFIX } from '../plugins/api-version.js';

const JOB = '9f0c5a2e-3b1d-4c8e-9a7f-2d6b1e0c4f3a';
const CREATED = '2026-11-27T00:00:00.000Z';
const SPEC = '# Recipe planner\n\n## Overview\nPlans a week of meals and builds the shopping list.\n';

const snapshot = {
  jobId: JOB,
  id: 42,
  status: 'processing',
  seq: 4,
  attempt: 1,
  message: 'Generating (attempt 1 of 3)',
  progress: { chars: 24, chunks: 2 },
  text: '# Recipe planner\n\n## Ov',
  createdAt: CREATED,
  startedAt: '2026-11-27T00:00:00.200Z',
  updatedAt: '2026-11-27T00:00:01.000Z',
};

const idea = {
  id: 42,
  jobId: JOB,
  userInput: 'A recipe planner that builds a weekly shopping list',
  generatedSpec: SPEC,
  status: 'completed',
  template: 'standard',
  generator: 'gemini',
  model: 'gemini-2.5-flash',
  attempts: 1,
  processingTimeMs: 31234,
  outputLength: SPEC.length,
  createdAt: CREATED,
  updatedAt: '2026-11-27T00:00:31.434Z',
  completedAt: '2026-11-27T00:00:31.434Z',
};

/** Request and response examples of the core routes, by operationId (the alias shares its route's). */
const EXAMPLES: Record<string, { request?: unknown; responses: Record<string, unknown> }> = {
  submitIdea: {
    request: {
      idea: 'A recipe planner that builds a weekly shopping list',
      template: 'standard',
      webhookUrl: 'https://hooks.example.com/idea2spec',
    },
    responses: {
      '202': {
        jobId: JOB,
        id: 42,
        status: 'queued',
        statusUrl: `/api/v1/job/${JOB}/status`,
        eventsUrl: `/api/v1/job/${JOB}/events`,
        websocketUrl: 'wss://idea2spec.example.com/api/v1/ws',
      },
      '200': idea,
    },
  },
  getJobStatus: { responses: { '200': snapshot } },
  cancelJob: {
    responses: {
      '202': {
        ...snapshot,
        status: 'cancelled',
        message: 'Cancelled by request',
        completedAt: '2026-11-27T00:00:02.000Z',
      },
    },
  },
  getSpec: { responses: { '200': idea } },
  listHistory: {
    responses: {
      '200': {
        data: [],
        pagination: {
          page: 1,
          limit: 20,
          total: 0,
          totalPages: 0,
          hasNext: false,
          hasPrev: false,
          nextCursor: null,
          asOf: 42,
        },
        search: null,
      },
    },
  },
};

/** Puts each example on its media type, where generators and Swagger UI show it. */
export function withExamples(document: OpenAPIV3_1.Document): OpenAPIV3_1.Document {
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item ?? {}) as OpenAPIV3_1.OperationObject[]) {
      const examples = EXAMPLES[operation?.operationId?.replace(new RegExp(`${ALIAS_SUFFIX}$`), '') ?? ''];
      if (!examples) continue;
      const body = (operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content?.['application/json'];
      if (body && examples.request !== undefined) body.example = examples.request;
      for (const [status, example] of Object.entries(examples.responses)) {
        const media = (operation.responses?.[status] as OpenAPIV3_1.ResponseObject | undefined)?.content?.[
          'application/json'
        ];
        if (media) media.example = example;
      }
    }
  }
  return document;
}
