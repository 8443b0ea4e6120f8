import { Writable } from 'node:stream';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { build, tempDir, WsClient, wsUrl } from './helper.js';
import { webRoot } from './web-build.js';

const KEY = 'test-api-key-0123456789abcdef';
const auth = { authorization: `Bearer ${KEY}` };
const IDEA = { idea: 'A shared calendar for families with kids in several schools' };

/** Opens a WebSocket and reports how the handshake ended. */
function handshake(
  url: string,
  protocols?: string[],
  headers: Record<string, string> = {},
): Promise<{ status: number; protocol?: string; headers?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { headers });
    socket.once('open', () => {
      resolve({ status: 101, protocol: socket.protocol });
      socket.close();
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
    });
    socket.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

t.test('without API_KEY every route is open', async (t) => {
  const app = await build(t);
  const res = await app.inject({ method: 'POST', url: '/api/generate', payload: IDEA });
  t.equal(res.statusCode, 202);
});

t.test('with API_KEY, mutating routes and reads need the key', async (t) => {
  const app = await build(t, { config: { API_KEY: KEY } });

  const anonymous = await app.inject({ method: 'POST', url: '/api/generate', payload: IDEA });
  t.equal(anonymous.statusCode, 401);
  t.match(anonymous.json(), { statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', requestId: String });
  t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="idea2spec"');

  const wrong = await app.inject({
    method: 'POST',
    url: '/api/generate',
    payload: IDEA,
    headers: { authorization: `Bearer ${KEY.slice(0, -1)}x` },
  });
  t.equal(wrong.statusCode, 401);
  t.match(wrong.headers['www-authenticate'], 'error="invalid_token"');

  for (const authorization of [KEY, `Basic ${KEY}`, `Bearer`, `Bearer ${KEY}${KEY}`, `Bearer ${KEY.slice(0, 8)}`]) {
    const res = await app.inject({ method: 'POST', url: '/api/generate', payload: IDEA, headers: { authorization } });
    t.equal(res.statusCode, 401, authorization);
  }

  const accepted = await app.inject({
    method: 'POST',
    url: '/api/generate',
    payload: IDEA,
    headers: { authorization: `bearer  ${KEY}` },
  });
  t.equal(accepted.statusCode, 202, 'the scheme is case-insensitive');
  const { jobId, id } = accepted.json();

  for (const [method, url] of [
    ['GET', `/api/job/${jobId}/status`],
    ['POST', `/api/job/${jobId}/cancel`],
    ['GET', `/api/spec/${id}`],
    ['GET', `/api/download/${id}`],
  ] as const) {
    t.equal((await app.inject({ method, url })).statusCode, 401, `${method} ${url} without the key`);
    t.not((await app.inject({ method, url, headers: auth })).statusCode, 401, `${method} ${url} with the key`);
  }
});

t.test('the key is never accepted from the query string', async (t) => {
  const app = await build(t, { config: { API_KEY: KEY } });
  for (const query of [`api_key=${KEY}`, `access_token=${KEY}`, `token=${KEY}`]) {
    const res = await app.inject({
      method: 'GET',
      url: `/api/job/00000000-0000-4000-8000-000000000000/status?${query}`,
    });
    t.equal(res.statusCode, 401, query);
  }
});

t.test('docs, health probes and CORS preflights stay open; an unknown route is still a 404', async (t) => {
  const app = await build(t, { config: { API_KEY: KEY } });
  t.equal((await app.inject({ method: 'GET', url: '/api/docs/json' })).statusCode, 200);
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/generate',
    headers: {
      origin: 'http://localhost:5173',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
  t.equal(preflight.statusCode, 204);
  t.equal((await app.inject({ method: 'GET', url: '/api/nothing-here' })).statusCode, 404);
});

t.test(
  'with API_KEY, probes and the pages with their scripts and styles answer without a key; job data does not',
  async (t) => {
    const root = await webRoot();
    const app = await build(t, { config: { API_KEY: KEY }, webRoot: root });
    // The built app's own script and stylesheet, under their hashed names.
    const assets = readdirSync(join(root, 'assets'))
      .filter((name) => /\.(js|css)$/.test(name))
      .map((name) => `/assets/${name}`);
    t.ok(
      assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')),
      'the build has a script and a stylesheet',
    );
    for (const url of [
      '/api/live',
      '/api/ready',
      '/api/health',
      '/api/gemini/health',
      '/',
      '/ideas/1',
      ...assets,
      '/status',
      '/status/status.js',
      '/status/status.css',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      t.not(res.statusCode, 401, `${url} is open`);
      t.equal(res.statusCode, 200, `${url} answers 200`);
    }
    t.equal(
      (await app.inject({ method: 'GET', url: '/api/jobs/recent' })).statusCode,
      401,
      "the dashboard's job list needs the key",
    );
    t.equal((await app.inject({ method: 'GET', url: '/api/jobs/recent', headers: auth })).statusCode, 200);
  },
);

t.test('the open/protected policy, route by route', async (t) => {
  const { requiresApiKey } = await import('../src/plugins/auth.js');
  const on = { API_KEY: KEY, METRICS_REQUIRE_API_KEY: false };
  const strict = { API_KEY: KEY, METRICS_REQUIRE_API_KEY: true };
  for (const url of [
    '/api/health',
    '/api/health/live',
    '/api/health/ready',
    '/api/live',
    '/api/ready',
    '/api/gemini/health',
    '/api/docs',
    '/api/docs/json',
    '/api/docs/static/index.html',
    '/status',
    '/status/status.js',
    '/status/status.css',
    '/',
    '/assets/:name',
    '/ideas/:id',
  ]) {
    t.notOk(requiresApiKey(url, 'GET', strict), `${url} is open`);
  }
  for (const url of [
    '/api/generate',
    '/api/ws',
    '/api/history',
    '/api/history/stats',
    '/api/history/:id',
    '/api/spec/:id',
    '/api/download/:id',
    '/api/job/:jobId/status',
    '/api/jobs/recent',
    '/api/healthy-looking',
    '/api/docsx',
    '/api/lively',
    '/api/ready/x',
    '/status/other.js',
    '/statusx',
    '/ideas',
    '/ideasx',
    '/assetsx',
    '/api/assets/x',
  ]) {
    t.ok(requiresApiKey(url, 'GET', on), `${url} is protected`);
  }
  t.notOk(requiresApiKey('/metrics', 'GET', on), '/metrics is open by default');
  t.notOk(requiresApiKey('/api/metrics/summary', 'GET', on));
  t.ok(requiresApiKey('/metrics', 'GET', strict), '/metrics is protected with METRICS_REQUIRE_API_KEY');
  t.ok(requiresApiKey('/api/metrics/summary', 'GET', strict));
  t.notOk(requiresApiKey('/api/generate', 'OPTIONS', on));
  t.ok(requiresApiKey('/api/v1/generate', 'POST', on), 'a versioned path is protected like its unversioned alias');
  t.notOk(requiresApiKey('/api/v1/health', 'GET', on), 'and open like it');
  t.notOk(requiresApiKey('/api/v1/metrics/summary', 'GET', on));
  t.ok(requiresApiKey('/api/v1/metrics/summary', 'GET', strict));
  t.notOk(requiresApiKey('/api/generate', 'POST', { API_KEY: undefined, METRICS_REQUIRE_API_KEY: true }));
});

t.test('OpenAPI marks exactly the protected routes with bearerAuth and a 401', async (t) => {
  const app = await build(t, { config: { API_KEY: KEY } });
  const doc = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json();
  t.same(doc.paths['/api/generate'].post.security, [{ bearerAuth: [] }]);
  t.ok(doc.paths['/api/generate'].post.responses['401']);
  t.same(doc.paths['/api/job/{jobId}/status'].get.security, [{ bearerAuth: [] }]);
  t.same(doc.paths['/api/ws'].get.security, [{ bearerAuth: [] }]);
  t.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');

  const open = await build(t);
  const openDoc = (await open.inject({ method: 'GET', url: '/api/docs/json' })).json();
  t.notOk(openDoc.paths['/api/generate'].post.security, 'no key configured: nothing marked');
});

t.test('the WebSocket needs the key in a header or a subprotocol, never echoed back', async (t) => {
  const app = await build(t, { config: { API_KEY: KEY }, listen: true });
  const url = wsUrl(app);

  t.equal((await handshake(url)).status, 401, 'no key');
  t.equal((await handshake(url, ['idea2spec', 'bearer.wrong-key-wrong-key-wrong'])).status, 401, 'wrong key');
  t.equal((await handshake(`${url}?token=${KEY}`)).status, 401, 'query string is ignored');

  const viaHeader = await handshake(url, undefined, auth);
  t.equal(viaHeader.status, 101, 'Authorization header');

  const viaProtocol = await handshake(url, [`bearer.${KEY}`, 'idea2spec']);
  t.equal(viaProtocol.status, 101, 'subprotocol token');
  t.equal(viaProtocol.protocol, 'idea2spec', 'the server picks idea2spec, not the token offered first');

  const client = await WsClient.open(url, { headers: auth });
  client.send({ type: 'ping' });
  await client.next((m) => m.type === 'pong');
  await client.close();
});

t.test('the key never reaches the logs', async (t) => {
  let logs = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const config = loadConfig(
    {},
    {
      LOG_LEVEL: 'trace',
      TURSO_DATABASE_URL: `file:${join(tempDir(t), 'log.db')}`,
      GENERATOR: 'offline',
      API_KEY: KEY,
    },
  );
  const app = await buildApp({
    config,
    logger: {
      level: 'trace',
      stream,
      redact: { paths: (await import('../src/logger.js')).REDACT_PATHS, censor: '[redacted]' },
    },
  });
  t.after(() => app.close());
  await app.ready();
  app.log.info({ config }, 'configuration');
  app.log.info(
    { req: { headers: { authorization: `Bearer ${KEY}`, 'sec-websocket-protocol': `idea2spec, bearer.${KEY}` } } },
    'a request',
  );
  await app.inject({
    method: 'POST',
    url: '/api/generate',
    payload: IDEA,
    headers: { authorization: `Bearer ${KEY}x` },
  });
  await app.inject({ method: 'POST', url: '/api/generate', payload: IDEA, headers: auth });
  t.match(logs, '[redacted]');
  t.notMatch(logs, KEY.slice(5));
});
