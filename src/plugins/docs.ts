import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { Config } from '../config.js';
import { packageVersion } from '../paths.js';
import { asyncApiDocument, ASYNCAPI_PATH } from '../docs/asyncapi.js';
import { withExamples } from '../docs/openapi-examples.js';
import {
  eventStreamContent,
  jobEndedWebhook,
  websocketPathItem,
  websocketProtocolDoc,
  websocketSchemas,
} from '../docs/websocket-protocol.js';
import { ALIAS_SUFFIX, API_VERSION, VERSIONED_API } from './api-version.js';
import { requiresApiKey } from './auth.js';

/** Where clients reach the service: PUBLIC_URL when configured (behind a proxy), else the origin the request came to. */
export function publicOrigin(request: FastifyRequest, config: Pick<Config, 'PUBLIC_URL'>): string {
  return config.PUBLIC_URL?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host}`;
}

/**
 * OpenAPI 3.1 from the routes' TypeBox schemas, served at /api/docs/json, with Swagger UI at /api/docs,
 * and the AsyncAPI 3 document of the WebSocket at /api/docs/asyncapi.json.
 * 3.1 rather than 3.0 with const mapped to enum: 3.1 schemas are JSON Schema, so the document
 * carries the very schemas the server validates with (TypeBox literals are `const`), unconverted.
 */
export default fp(
  async function docsPlugin(app) {
    const { config } = app;
    await app.register(swagger, {
      // @fastify/websocket hides WebSocket routes from the generated paths; the protocol is described here instead.
      transformObject: (documentObject) => {
        const openapi = (documentObject as { openapiObject: OpenAPIV3_1.Document }).openapiObject;
        const paths = (openapi.paths ??= {});
        for (const [path, suffix] of [
          [`${VERSIONED_API}/ws`, ''],
          ['/api/ws', ALIAS_SUFFIX],
        ] as const) {
          const item = suffix ? aliasOf(websocketPathItem, `${VERSIONED_API}/ws`) : websocketPathItem;
          paths[path] = requiresApiKey(path, 'GET', config) ? withBearerAuth(item) : item;
        }
        for (const [path, item] of Object.entries(paths)) {
          // The event stream's body is a sequence of JobEvents, which Fastify's serializer never sees.
          const get = item?.get as { responses: Record<string, unknown> } | undefined;
          if (path.endsWith('/job/{jobId}/events') && get)
            get.responses = { ...get.responses, '200': eventStreamContent };
        }
        openapi.components = {
          ...openapi.components,
          schemas: { ...openapi.components?.schemas, ...websocketSchemas },
        };
        // Nothing to refer to it when the service has no API key.
        if (!config.API_KEY) delete openapi.components.securitySchemes;
        openapi.webhooks = { jobEnded: jobEndedWebhook };
        return withExamples(openapi);
      },
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'idea2spec API',
          version: packageVersion,
          license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
          description: [
            'Turns a product idea into a written specification by running the Gemini CLI as a job, and streams the job live.',
            `**Version ${API_VERSION}.** Every path is under \`${VERSIONED_API}/\`; the same routes also answer at \`/api/…\` without the version, as aliases of the current version (their operationIds end in \`${ALIAS_SUFFIX}\`). New clients should use the versioned paths.`,
            '**Four ways to follow a job:** the WebSocket (`/api/v1/ws`, described below and, as AsyncAPI 3, at `/api/docs/asyncapi.json`), Server-Sent Events (`GET /api/v1/job/{jobId}/events`), polling (`GET /api/v1/job/{jobId}/status`), and a webhook (`webhookUrl` on `POST /api/v1/generate`, signed per Standard Webhooks).',
            websocketProtocolDoc,
          ].join('\n\n'),
        },
        // Open unless an operation says otherwise: with API_KEY set, the protected operations carry bearerAuth.
        security: [],
        tags: [
          { name: 'generate', description: 'Submit ideas and follow their jobs' },
          { name: 'ideas', description: 'Stored ideas and specifications' },
          { name: 'history', description: 'Browse, search and delete stored ideas' },
          { name: 'health', description: 'Health, readiness and metrics' },
          { name: 'websocket', description: 'Live job updates (see the protocol in the description above)' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              description: 'API_KEY, when the service is configured with one',
            },
          },
        },
      },
    });
    // No staticCSP: helmet's policy (src/plugins/security.ts) covers the UI exactly, and staticCSP would allow any https: style or font.
    // No validatorUrl: the UI would fetch a badge from validator.swagger.io.
    await app.register(swaggerUi, {
      routePrefix: '/api/docs',
      uiConfig: { deepLinking: true, validatorUrl: null },
      transformSpecification: (document, request) => {
        const origin = publicOrigin(request, config);
        return {
          ...document,
          servers: [{ url: origin }],
          externalDocs: {
            description: 'The WebSocket protocol as an AsyncAPI 3 document',
            url: `${origin}${ASYNCAPI_PATH}`,
          },
        };
      },
    });

    app.get(ASYNCAPI_PATH, { schema: { hide: true } }, async (request) =>
      asyncApiDocument(publicOrigin(request, config), requiresApiKey(`${VERSIONED_API}/ws`, 'GET', config)),
    );
  },
  { name: 'docs', dependencies: ['config'] },
);

function withBearerAuth(item: OpenAPIV3_1.PathItemObject): OpenAPIV3_1.PathItemObject {
  const get = item.get!;
  return {
    ...item,
    get: {
      ...get,
      security: [{ bearerAuth: [] }],
      responses: {
        ...get.responses,
        '401': { description: 'API key missing or wrong (Authorization: Bearer, or the bearer.<key> subprotocol)' },
      },
    },
  };
}

function aliasOf(item: OpenAPIV3_1.PathItemObject, versioned: string): OpenAPIV3_1.PathItemObject {
  const get = item.get!;
  return {
    ...item,
    get: {
      ...get,
      operationId: `${get.operationId}${ALIAS_SUFFIX}`,
      description: `Alias of \`${versioned}\`, the current version (${API_VERSION}). ${get.description ?? ''}`,
    },
  };
}
