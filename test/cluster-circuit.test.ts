import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { SharedCircuitBreaker } from '../src/cluster/shared-circuit-breaker.js';
import { GeneratorError } from '../src/generators/errors.js';
import { RedisServer, redisMissing } from './fixtures/redis-server.js';
import { build, fakeGemini, submit, tempDir, waitFor, waitForJob } from './helper.js';

const IDEA = { idea: 'A booking tool for community sports halls' };

const geminiHealth = async (app: FastifyInstance) => await app.inject({ url: '/api/gemini/health' });
const circuitOf = async (app: FastifyInstance) => (await geminiHealth(app)).json().circuit;

t.test(
  'instances sharing Redis share the circuit: failures on A open it on B, one probe runs across both, its success closes it on both',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const gate = join(tempDir(t), 'gate');
    // The first two calls fail (an outage); later ones answer once the test opens the gate.
    const fake = fakeGemini(t, 'fail-until', { GEMINI_FAKE_FAILURES: '2', GEMINI_FAKE_GATE: gate });
    const config = {
      ...fake.config,
      REDIS_URL: redis.url,
      GEMINI_MAX_ATTEMPTS: 1,
      CIRCUIT_FAILURE_THRESHOLD: 2,
      CIRCUIT_COOLDOWN_MS: 1500,
    };
    // Instances of one cluster share Redis and one database.
    const dbFile = join(tempDir(t), 'shared.db');
    const a = await build(t, { dbFile, config, env: fake.env });
    const b = await build(t, { dbFile, config, env: fake.env });

    for (let i = 0; i < 2; i++) {
      const job = await waitForJob(a, (await submit(a, IDEA)).json().jobId);
      t.match(job, { status: 'failed', error: { code: 'GENERATOR_CRASHED' } }, `failure ${i + 1} on A`);
    }
    t.match(a.circuit.state(), { state: 'open', failures: 2 });

    await waitFor(async () => (await circuitOf(b)).state === 'open', { what: 'B to see the circuit open' });
    const health = await geminiHealth(b);
    t.equal(health.statusCode, 503, "B's Gemini health fails while the shared circuit is open");
    t.match(health.json(), { status: 'unavailable', available: false, circuit: { state: 'open', failures: 2 } });
    const refused = await submit(b, IDEA);
    t.equal(refused.statusCode, 503, 'B refuses new ideas though its own generator never failed');
    t.equal(refused.json().code, 'GENERATOR_UNAVAILABLE');
    t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After points at the next probe');
    t.equal(fake.calls().length, 2, 'no CLI was started while the circuit was open');

    await waitFor(() => a.circuit.state().state === 'half-open' && b.circuit.state().state === 'half-open', {
      what: 'the cool-down to end',
    });
    const probe = (await submit(a, IDEA)).json().jobId;
    await waitFor(() => fake.calls().length === 3, { what: 'the probe to start on A' });

    // While A's probe runs, every other attempt, on B as on A, is refused without starting the CLI.
    for (const app of [b, a, b]) {
      const accepted = await submit(app, IDEA);
      t.equal(accepted.statusCode, 202, 'half-open: the idea is accepted');
      const job = await waitForJob(app, accepted.json().jobId);
      t.match(job, { status: 'failed', error: { code: 'GENERATOR_CIRCUIT_OPEN' } }, 'and refused by the circuit');
    }
    t.equal(fake.calls().length, 3, 'only one probe ran across both instances');

    writeFileSync(gate, '');
    t.equal((await waitForJob(a, probe)).status, 'completed', 'the probe succeeded');
    // The probe's success reaches the shared circuit a moment after the job's end (under CI load, after this look).
    await waitFor(() => a.circuit.state().state === 'closed', { what: 'A to close the circuit' });
    t.match(a.circuit.state(), { state: 'closed', failures: 0 });
    await waitFor(async () => (await circuitOf(b)).state === 'closed', { what: 'B to see the circuit closed' });
    t.match(await circuitOf(b), { state: 'closed', failures: 0 });

    const after = await waitForJob(b, (await submit(b, IDEA)).json().jobId);
    t.equal(after.status, 'completed', 'B generates again');
    t.equal(fake.calls().length, 4);
  },
);

t.test(
  'with Redis unreachable the breaker counts on its own instance: it still opens, and nothing waits on Redis',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const shared = new SharedCircuitBreaker({ url: redis.url, threshold: 2, cooldownMs: 60_000 });
    t.after(() => shared.close());
    t.ok(await shared.connected(5000), 'connected to Redis');
    await redis.stop();
    // (In cluster mode new ideas get 503 QUEUE_UNAVAILABLE while Redis is away; jobs already running still fail or succeed.)
    for (let i = 0; i < 2; i++)
      await t.rejects(shared.run(() => Promise.reject(new GeneratorError('GENERATOR_CRASHED', 'down', true))));
    t.match(shared.state(), { state: 'open', failures: 2 }, 'opened by local counting');
    await t.rejects(
      shared.run(() => Promise.resolve('never')),
      { code: 'GENERATOR_CIRCUIT_OPEN' },
      'and refuses without starting the generator',
    );
  },
);

t.test(
  'a probe that proves nothing (a non-retryable error) hands the probe on at once, to any instance',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    const breaker = () => {
      const shared = new SharedCircuitBreaker({ url: redis.url, threshold: 1, cooldownMs: 200 });
      t.after(() => shared.close());
      return shared;
    };
    const [x, y] = [breaker(), breaker()];
    for (const shared of [x, y]) t.ok(await shared.connected(5000), 'connected to Redis');
    await t.rejects(x.run(() => Promise.reject(new GeneratorError('GENERATOR_CRASHED', 'down', true))));
    await waitFor(() => x.state().state === 'half-open' && y.state().state === 'half-open', {
      what: 'the cool-down to end on both',
    });
    await t.rejects(
      x.run(() => Promise.reject(new GeneratorError('GEMINI_AUTH', 'no login', false))),
      { code: 'GEMINI_AUTH' },
      "x's probe ends with an answer that says nothing about an outage",
    );
    t.equal(await y.run(() => Promise.resolve('fine')), 'fine', 'y probes next, without waiting for the lock to lapse');
    t.match(y.state(), { state: 'closed', failures: 0 });
    await waitFor(() => x.state().state === 'closed', { what: 'x to see the circuit closed' });
  },
);
