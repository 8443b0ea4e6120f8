import { Writable } from 'node:stream';
import t from 'tap';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { loggerOptions } from '../src/logger.js';
import { RedisServer, redisMissing } from './fixtures/redis-server.js';
import { fakeGemini, tempDir, waitForJob } from './helper.js';

const SECRETS = {
  GEMINI_API_KEY: 'AIzaSy-secret-gemini-key-0001',
  TURSO_AUTH_TOKEN: 'turso-secret-token-0002',
  bearer: 'secret-bearer-0003',
  xApiKey: 'secret-x-api-key-0004',
  cookie: 'secret-cookie-0005',
  query: 'secret-query-token-0006',
  redisPassword: 'secret-redis-password-0007',
};

t.test(
  'one JSON line per request; job lines carry the job id; secrets never reach the log',
  { skip: redisMissing },
  async (t) => {
    // Cluster mode on a Redis that wants a password: the password is in REDIS_URL, and must not reach the log either.
    const redis = await RedisServer.start(t, { password: SECRETS.redisPassword });
    const lines: Array<Record<string, any>> = [];
    let raw = '';
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        raw += chunk.toString();
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        callback();
      },
    });
    const fake = fakeGemini(t, 'ok');
    const config = loadConfig(
      {},
      {
        LOG_LEVEL: 'info',
        TURSO_DATABASE_URL: `file:${tempDir(t)}/log.db`,
        TURSO_AUTH_TOKEN: SECRETS.TURSO_AUTH_TOKEN,
        GEMINI_API_KEY: SECRETS.GEMINI_API_KEY,
        REDIS_URL: redis.url,
        GEMINI_HEALTH_CHECK_MS: 0,
        ...fake.config,
      },
    );
    const app = await buildApp({
      config,
      logger: { ...(loggerOptions(config) as object), stream },
      generatorEnv: { ...fake.env, GOOGLE_API_KEY: SECRETS.GEMINI_API_KEY },
    });
    t.teardown(() => app.close());
    await app.ready();

    const health = await app.inject({
      url: `/api/health?token=${SECRETS.query}`,
      headers: {
        authorization: `Bearer ${SECRETS.bearer}`,
        'x-api-key': SECRETS.xApiKey,
        cookie: `session=${SECRETS.cookie}`,
        'x-request-id': 'trace-42',
      },
    });
    t.equal(health.statusCode, 200);
    const { jobId } = (
      await app.inject({
        method: 'POST',
        url: '/api/generate',
        payload: { idea: 'A marketplace where neighbours lend each other tools' },
      })
    ).json();
    await waitForJob(app, jobId);
    // What a careless log call could pass: the whole configuration, request headers, the generator's environment.
    app.log.info(
      {
        config,
        headers: { authorization: `Bearer ${SECRETS.bearer}` },
        env: { GEMINI_API_KEY: SECRETS.GEMINI_API_KEY },
      },
      'diagnostics',
    );
    await app.close();

    const requestLine = lines.find((l) => l.msg === 'request' && l.requestId === 'trace-42');
    t.match(
      requestLine,
      { method: 'GET', route: '/api/health', url: '/api/health', statusCode: 200, durationMs: Number },
      'request id, route, status and duration on one line',
    );
    t.equal(lines.filter((l) => l.requestId === 'trace-42').length, 1, 'exactly one line for the request');

    const jobLines = lines.filter((l) => ['attempt started', 'job completed'].includes(l.msg));
    t.equal(jobLines.length, 2);
    t.ok(
      jobLines.every((l) => l.jobId === jobId),
      'job lines carry the job id',
    );

    const diagnostics = lines.find((l) => l.msg === 'diagnostics');
    t.equal(diagnostics?.config.GEMINI_API_KEY, '[redacted]');
    t.equal(diagnostics?.headers.authorization, '[redacted]');
    for (const [name, secret] of Object.entries(SECRETS)) t.notOk(raw.includes(secret), `${name} is not in the log`);
    t.notOk(raw.includes('secret-redis-password'), 'nor the Redis password');
  },
);
