import t from 'tap';
import { CircuitBreaker, CircuitOpenError } from '../src/generators/circuit-breaker.js';
import { CancelledError, GeneratorError } from '../src/generators/errors.js';
import { build, fakeGemini, submit, waitFor, waitForJob } from './helper.js';

const IDEA = { idea: 'A booking tool for community sports halls' };
const retryable = () => Promise.reject(new GeneratorError('GENERATOR_CRASHED', 'crashed', true));
const ok = () => Promise.resolve('ok');

function clockedBreaker(threshold = 3, cooldownMs = 1000) {
  const clock = { now: 1_000_000 };
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    threshold,
    cooldownMs,
    now: () => clock.now,
    onChange: (to, from) => changes.push(`${from}->${to.state}`),
  });
  return { breaker, clock, changes };
}

t.test('opens after the threshold of consecutive retryable failures and fails fast', async (t) => {
  const { breaker, changes } = clockedBreaker(3);
  for (let i = 0; i < 2; i++) await t.rejects(breaker.run(retryable), { code: 'GENERATOR_CRASHED' });
  t.equal(breaker.state().state, 'closed');
  await t.rejects(breaker.run(retryable), { code: 'GENERATOR_CRASHED' });
  t.match(breaker.state(), { state: 'open', failures: 3, threshold: 3, openedAt: String, nextProbeAt: String });

  let called = false;
  await t.rejects(
    breaker.run(async () => {
      called = true;
    }),
    CircuitOpenError,
  );
  t.notOk(called, 'the call is not made while open');
  await t.rejects(breaker.run(ok), { code: 'GENERATOR_CIRCUIT_OPEN', retryable: false });
  t.same(changes, ['closed->open']);
});

t.test('a success resets the count; cancellations and non-retryable errors neither count nor reset', async (t) => {
  const { breaker } = clockedBreaker(3);
  await t.rejects(breaker.run(retryable));
  await t.rejects(breaker.run(retryable));
  await breaker.run(ok);
  t.equal(breaker.state().failures, 0);
  await t.rejects(breaker.run(retryable));
  await t.rejects(breaker.run(() => Promise.reject(new CancelledError())));
  await t.rejects(breaker.run(() => Promise.reject(new GeneratorError('GEMINI_AUTH', 'no login', false))));
  await t.rejects(breaker.run(retryable));
  t.match(breaker.state(), { state: 'closed', failures: 2 });
  await t.rejects(breaker.run(() => Promise.reject(new TypeError('a bug'))));
  t.equal(breaker.state().state, 'open', 'an unexpected error counts as a failure');
});

t.test('after the cool-down one probe goes through; its success closes the circuit', async (t) => {
  const { breaker, clock, changes } = clockedBreaker(1, 1000);
  await t.rejects(breaker.run(retryable));
  clock.now += 999;
  t.equal(breaker.state().state, 'open');
  clock.now += 1;
  t.equal(breaker.state().state, 'half-open');

  let release!: (v: string) => void;
  const probe = breaker.run(() => new Promise<string>((r) => (release = r)));
  await t.rejects(breaker.run(ok), CircuitOpenError, 'a second caller is refused while the probe runs');
  release('fine');
  t.equal(await probe, 'fine');
  t.match(breaker.state(), { state: 'closed', failures: 0 });
  t.notOk(breaker.state().openedAt);
  t.same(changes, ['closed->open', 'half-open->closed']);
});

t.test('a failed probe opens the circuit again for a new cool-down; a neutral probe leaves it half-open', async (t) => {
  const { breaker, clock } = clockedBreaker(1, 1000);
  await t.rejects(breaker.run(retryable));
  clock.now += 1000;
  await t.rejects(breaker.run(() => Promise.reject(new GeneratorError('GEMINI_BAD_INPUT', 'bad', false))));
  t.equal(breaker.state().state, 'half-open', 'a non-retryable answer proves nothing either way');
  await t.rejects(breaker.run(retryable), { code: 'GENERATOR_CRASHED' });
  t.equal(breaker.state().state, 'open');
  t.equal(breaker.state().openedAt, new Date(clock.now).toISOString());
  clock.now += 500;
  await t.rejects(breaker.run(ok), CircuitOpenError);
});

t.test(
  'in the service: a failing CLI opens the circuit, jobs fail fast with GENERATOR_CIRCUIT_OPEN, and a probe closes it',
  async (t) => {
    const fake = fakeGemini(t, 'fail-until', { GEMINI_FAKE_FAILURES: '2' });
    const app = await build(t, {
      config: { ...fake.config, GEMINI_MAX_ATTEMPTS: 1, CIRCUIT_FAILURE_THRESHOLD: 2, CIRCUIT_COOLDOWN_MS: 1500 },
      env: fake.env,
    });
    t.equal(app.circuit.state().state, 'closed');

    for (let i = 0; i < 2; i++) {
      const job = await waitForJob(app, (await submit(app, IDEA)).json().jobId);
      t.match(job, { status: 'failed', error: { code: 'GENERATOR_CRASHED' } });
    }
    t.match(app.circuit.state(), { state: 'open', failures: 2 });
    const health = await app.inject({ url: '/api/gemini/health' });
    t.equal(health.statusCode, 503, 'an open circuit makes the Gemini health check fail');
    t.match(health.json(), {
      status: 'unavailable',
      available: false,
      circuit: { state: 'open', failures: 2, threshold: 2, nextProbeAt: String },
    });

    const refused = await submit(app, IDEA);
    t.equal(refused.statusCode, 503, 'while the circuit is open, new ideas are refused rather than accepted to fail');
    t.equal(refused.json().code, 'GENERATOR_UNAVAILABLE');
    t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After points at the next probe');
    t.equal(fake.calls().length, 2, 'the CLI was not started while the circuit was open');

    await waitFor(() => app.circuit.state().state === 'half-open', { what: 'the cool-down to end' });
    const probe = await waitForJob(app, (await submit(app, IDEA)).json().jobId);
    t.equal(probe.status, 'completed');
    t.match(app.circuit.state(), { state: 'closed', failures: 0 });
    t.match((await app.inject({ url: '/api/gemini/health' })).json().circuit, { state: 'closed', failures: 0 });
    t.equal(fake.calls().length, 3);
  },
);
