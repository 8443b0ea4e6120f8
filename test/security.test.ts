import t from 'tap';
import { build, submit } from './helper.js';
import { webRoot } from './web-build.js';

// What a browser or a script from elsewhere sees: headers, CORS, rate limits and
// size limits. The WebSocket Origin check is in websocket.test.ts, argv
// injection in fuzz.test.ts, the API key in auth.test.ts.

const ALLOWED = 'https://app.example.com';
const IDEA = { idea: 'A seed-swap map for allotment gardeners' };

t.test('security headers on every response, errors included', async (t) => {
  const app = await build(t);
  for (const res of [
    await submit(app, IDEA),
    await app.inject({ method: 'GET', url: '/nowhere' }),
    await submit(app, { idea: 1 }),
    await app.inject({ method: 'GET', url: '/status' }),
  ]) {
    t.equal(res.headers['x-content-type-options'], 'nosniff');
    t.equal(res.headers['x-frame-options'], 'DENY');
    t.equal(res.headers['referrer-policy'], 'no-referrer');
    t.ok(res.headers['strict-transport-security']);
    t.notOk(res.headers['x-powered-by']);
    t.ok(res.headers['x-request-id']);
  }
});

t.test('every page a browser renders carries the Content-Security-Policy', async (t) => {
  const app = await build(t, { webRoot: await webRoot() });
  for (const url of ['/', '/ideas/1', '/status', '/api/docs', '/api/docs/static/oauth2-redirect.html']) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 200, url);
    t.match(res.headers['content-type'], 'text/html', url);
    t.match(res.headers['content-security-policy'], "default-src 'self'", url);
    t.match(res.headers['content-security-policy'], "frame-ancestors 'none'", url);
    t.notMatch(res.headers['content-security-policy'], 'upgrade-insecure-requests', url);
  }
});

t.test('CORS allows the configured origins exactly and nothing else', async (t) => {
  const app = await build(t, { config: { ALLOWED_ORIGINS: ALLOWED } });
  const allowed = await submit(app, IDEA, { origin: ALLOWED });
  t.equal(allowed.headers['access-control-allow-origin'], ALLOWED);
  t.match(
    allowed.headers['access-control-expose-headers'],
    'x-request-id',
    'a page from an allowed origin can read the request id',
  );

  for (const origin of [
    'https://evil.example.net',
    'https://app.example.com.evil.net',
    'http://app.example.com',
    'null',
    'https://APP.example.com:443x',
  ]) {
    const res = await app.inject({ method: 'GET', url: '/api/docs/json', headers: { origin } });
    t.notOk(res.headers['access-control-allow-origin'], `no CORS grant for ${origin}`);
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/api/generate',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    t.notOk(preflight.headers['access-control-allow-origin'], `preflight from ${origin} is not granted`);
  }
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/generate',
    headers: {
      origin: ALLOWED,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,idempotency-key',
    },
  });
  t.equal(preflight.headers['access-control-allow-origin'], ALLOWED);
  t.match(preflight.headers['access-control-allow-headers'], 'idempotency-key');
});

t.test('rate limits come from the configuration: 429 with Retry-After and the standard headers', async (t) => {
  const app = await build(t, {
    config: {
      RATE_LIMIT_MAX: 4,
      RATE_LIMIT_WINDOW_MS: 60_000,
      GENERATE_RATE_LIMIT_MAX: 2,
      GENERATE_RATE_LIMIT_WINDOW_MS: 30_000,
    },
  });
  const generate = [];
  for (let i = 0; i < 3; i++) generate.push(await submit(app, { idea: `${IDEA.idea} #${i}` }));
  t.same(
    generate.map((r) => r.statusCode),
    [202, 202, 429],
    'the stricter limit on POST /api/generate',
  );
  const limited = generate[2];
  t.match(limited.json(), { statusCode: 429, code: 'RATE_LIMITED', error: 'Too Many Requests', requestId: String });
  t.equal(limited.headers['x-ratelimit-limit'], '2');
  t.equal(limited.headers['x-ratelimit-remaining'], '0');
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 30);

  const reads = [];
  for (let i = 0; i < 5; i++)
    reads.push(
      (await app.inject({ method: 'GET', url: '/api/job/00000000-0000-4000-8000-000000000000/status' })).statusCode,
    );
  t.same(reads, [404, 404, 404, 404, 429], 'the global limit on every other route');

  const otherClient = await app.inject({
    method: 'GET',
    url: '/api/job/00000000-0000-4000-8000-000000000000/status',
    remoteAddress: '10.0.0.7',
  });
  t.equal(otherClient.statusCode, 404, 'limits are per client IP');
});

t.test('bodies over the size limit are refused with 413', async (t) => {
  const app = await build(t);
  const res = await submit(app, { idea: 'x'.repeat(70_000) });
  t.equal(res.statusCode, 413);
  t.match(res.json(), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', requestId: String });
});

t.test('no word list: finance, performance, accents, CJK and emoji are ordinary ideas', async (t) => {
  const app = await build(t);
  for (const idea of [
    'A personal finance tracker with performance reports',
    'Une crème brûlée café à Zürich, façade naïve',
    '一个帮助小企业管理库存的应用程序',
    '🐶🐱 pet sitter swaps 🏠🔑 for neighbours',
    'DROP TABLE ideas; -- a SQL-themed escape room game',
  ]) {
    t.equal((await submit(app, { idea })).statusCode, 202, idea);
  }
});

t.test(
  'behind a trusted proxy each client is limited on its own; X-Forwarded-For from anyone else is ignored',
  async (t) => {
    const app = await build(t, { config: { RATE_LIMIT_MAX: 2, TRUST_PROXY: '10.9.0.0/16' } });
    const get = (remoteAddress: string, client: string) =>
      app.inject({ url: '/api/history', remoteAddress, headers: { 'x-forwarded-for': client } });
    const proxy = '10.9.0.5';
    t.same(
      [
        (await get(proxy, '203.0.113.1')).statusCode,
        (await get(proxy, '203.0.113.1')).statusCode,
        (await get(proxy, '203.0.113.1')).statusCode,
      ],
      [200, 200, 429],
      'one client through the proxy reaches its limit',
    );
    t.equal(
      (await get(proxy, '203.0.113.2')).statusCode,
      200,
      'another client through the same proxy has its own count',
    );
    const spoofer = '192.0.2.9';
    t.same(
      [(await get(spoofer, '198.51.100.1')).statusCode, (await get(spoofer, '198.51.100.2')).statusCode],
      [200, 200],
    );
    t.equal(
      (await get(spoofer, '198.51.100.3')).statusCode,
      429,
      'an untrusted sender cannot pick a new address per request',
    );
  },
);
