import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { RedisServer, redisMissing } from './fixtures/redis-server.js';
import { build, waitFor, tempDir } from './helper.js';

/** Longer than a request may ever take while Redis is away; ioredis's own defaults made each one wait longer than this. */
const HANG = 15_000;

async function answered(app: FastifyInstance): Promise<number | 'no answer'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'no answer'>((resolve) => (timer = setTimeout(resolve, HANG, 'no answer')));
  const res = await Promise.race([app.inject({ url: '/api/history' }), hang]);
  clearTimeout(timer);
  return typeof res === 'string' ? res : res.statusCode;
}

/** Each probe from an address of its own, so probes never use up the count of the requests being limited, nor their own. */
let probes = 0;
const health = async (app: FastifyInstance) =>
  (
    await app.inject({ url: '/api/health', remoteAddress: `10.0.${Math.floor(++probes / 250)}.${probes % 250}` })
  ).json();

t.test(
  'instances sharing Redis share one rate limit, skip it while Redis is away, and apply it again when it is back',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const config = { REDIS_URL: redis.url, RATE_LIMIT_MAX: 5, RATE_LIMIT_WINDOW_MS: 60_000, HEALTH_SAMPLE_MS: 100 };
    // Instances of one cluster share Redis and one database.
    const dbFile = join(tempDir(t), 'shared.db');
    const a = await build(t, { dbFile, config });
    const b = await build(t, { dbFile, config });

    const statuses = [];
    for (const app of [a, b, a, b, a, b, a]) statuses.push(await answered(app));
    t.same(statuses, [200, 200, 200, 200, 200, 429, 429], 'the 6th request is refused, whichever instance it reaches');
    const limited = await b.inject({ url: '/api/history' });
    t.equal(limited.json().code, 'RATE_LIMITED');
    t.equal(limited.headers['x-ratelimit-limit'], '5');

    await redis.stop();
    const whileAway = [];
    for (const app of [a, b, a, b]) whileAway.push(await answered(app));
    t.same(whileAway, [200, 200, 200, 200], 'with Redis gone every request is answered, unlimited');
    await waitFor(async () => (await health(a)).status === 'DEGRADED', { what: 'health to notice' });
    const degraded = await health(a);
    t.equal(degraded.services.redis.status, 'DOWN');
    t.match(degraded.reasons, [/^redis unreachable/]);

    await redis.start();
    // A restarted Redis has no counts: the clients reconnect by themselves and count from zero.
    await waitFor(async () => (await answered(a)) === 429, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the limit to apply again',
    });
    t.equal(await answered(b), 429, 'on the other instance too');
    await waitFor(async () => (await health(b)).services.redis.status === 'OK', { what: 'health to recover' });
    t.ok((await health(b)).services.redis.latencyMs >= 0, 'Redis latency reported');
  },
);

t.test(
  'the stricter limit on POST /api/generate is shared too, across instances and the /api/v1 path',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const config = { REDIS_URL: redis.url, GENERATE_RATE_LIMIT_MAX: 2 };
    // Instances of one cluster share Redis and one database.
    const dbFile = join(tempDir(t), 'shared.db');
    const a = await build(t, { dbFile, config });
    const b = await build(t, { dbFile, config });
    const post = (app: FastifyInstance, url: string) =>
      app.inject({ method: 'POST', url, payload: { idea: 'A timetable swap board for shift workers' } });
    const statuses = [(await post(a, '/api/generate')).statusCode, (await post(b, '/api/v1/generate')).statusCode];
    const third = await post(a, '/api/v1/generate');
    t.same(
      [...statuses, third.statusCode],
      [202, 202, 429],
      'the third idea is refused, whichever instance and path the first two took',
    );
    t.equal(third.headers['x-ratelimit-limit'], '2');
    t.equal((await a.inject({ url: '/api/history' })).statusCode, 200, 'the general limit is a counter of its own');
  },
);
