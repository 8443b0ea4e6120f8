import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { packageVersion } from '../paths.js';
import type { OpenAPIV3 } from 'openapi-types';
import { websocketPathItem, websocketProtocolDoc, websocketSchemas } from '../websocket/protocol-doc.js';
import { requiresApiKey } from './auth.js';

/** OpenAPI from the routes' TypeBox schemas, served at /api/docs/json, with Swagger UI at /api/docs. */
export default fp(
  async function docsPlugin(app) {
    await app.register(swagger, {
      // @fastify/websocket hides WebSocket routes from the generated paths; the protocol is described here instead.
      transformObject: (documentObject) => {
        const openapi = (documentObject as { openapiObject: OpenAPIV3.Document }).openapiObject;
        openapi.paths['/api/ws'] = requiresApiKey('/api/ws', 'GET', app.config) ? withBearerAuth(websocketPathItem) : websocketPathItem;
        openapi.components = { ...openapi.components, schemas: { ...openapi.components?.schemas, ...websocketSchemas } };
        return openapi;
      },
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'idea2spec API',
          version: packageVersion,
          description: `Turns a product idea into a written specification by running the Gemini CLI as a job, and streams the job live.\n\n${websocketProtocolDoc}`,
        },
        tags: [
          { name: 'generate', description: 'Submit ideas and follow their jobs' },
          { name: 'ideas', description: 'Stored ideas and specifications' },
          { name: 'health', description: 'Health, readiness and metrics' },
          { name: 'websocket', description: 'Live job updates (see the protocol in the description above)' },
        ],
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API_KEY, when the service is configured with one' } },
        },
      },
    });
    // No staticCSP: helmet's policy (src/plugins/security.ts) covers the UI exactly, and staticCSP would allow any https: style or font.
    // No validatorUrl: the UI would fetch a badge from validator.swagger.io.
    await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { deepLinking: true, validatorUrl: null } });
  },
  { name: 'docs', dependencies: ['config'] },
);

function withBearerAuth(item: OpenAPIV3.PathItemObject): OpenAPIV3.PathItemObject {
  const get = item.get!;
  return { ...item, get: { ...get, security: [{ bearerAuth: [] }], responses: { ...get.responses, '401': { description: 'API key missing or wrong (Authorization: Bearer, or the bearer.<key> subprotocol)' } } } };
}
