import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';
import { renderEnvExample } from '../scripts/env-example.js';

t.test('defaults need no environment at all', async (t) => {
  const config = loadConfig({});
  t.equal(config.PORT, 3001);
  t.equal(config.GENERATOR, 'auto');
  t.equal(config.TURSO_DATABASE_URL, 'file:./data/idea2spec.db');
});

t.test(
  'cluster mode: ROLE defaults to all, and api or worker come with REDIS_URL; lock and stall defaults recover in seconds',
  async (t) => {
    const single = loadConfig({});
    t.equal(single.ROLE, 'all');
    t.equal(single.REDIS_URL, undefined, 'no Redis unless asked for');
    t.same(
      [single.JOB_LOCK_DURATION_MS, single.JOB_STALLED_INTERVAL_MS, single.JOB_ENQUEUE_TIMEOUT_MS],
      [10_000, 5000, 2000],
    );
    for (const role of ['api', 'worker', 'all'] as const)
      t.equal(loadConfig({ ROLE: role, REDIS_URL: 'redis://127.0.0.1:6379' }).ROLE, role);
  },
);

t.test('values are coerced from strings', async (t) => {
  const config = loadConfig({ PORT: '8080', JOB_CONCURRENCY: '4', GENERATOR: 'offline' });
  t.equal(config.PORT, 8080);
  t.equal(config.JOB_CONCURRENCY, 4);
});

t.test('a bad value is rejected with a message naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ GENERATOR: 'chatgpt' }, /GENERATOR/],
    [{ JOB_CONCURRENCY: '0' }, /JOB_CONCURRENCY/],
    [{ GENERATOR: 'command' }, /GENERATOR_COMMAND: required/],
    [{ GENERATOR_COMMAND: 'ollama run llama3' }, /GENERATOR_COMMAND: must be a JSON array/],
    [{ ALLOWED_ORIGINS: 'https://ok.example.com,not an origin' }, /ALLOWED_ORIGINS: "not an origin"/],
    [{ GEMINI_MODEL: '--yolo' }, /GEMINI_MODEL/],
    [{ TURSO_DATABASE_URL: 'postgres://x' }, /TURSO_DATABASE_URL/],
    [{ ROLE: 'scheduler' }, /ROLE/],
    [{ ROLE: 'worker' }, /ROLE: worker needs REDIS_URL/],
    [
      { REDIS_URL: 'redis://127.0.0.1:6379', JOB_LOCK_DURATION_MS: '4000', JOB_STALLED_INTERVAL_MS: '8000' },
      /JOB_STALLED_INTERVAL_MS: 8000 is longer than JOB_LOCK_DURATION_MS/,
    ],
    [{ JOB_LOCK_DURATION_MS: '10' }, /JOB_LOCK_DURATION_MS/],
  ];
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), ConfigError);
    t.throws(() => loadConfig(env), { message }, JSON.stringify(env));
  }
});

t.test('the server refuses to start on a bad value and says why', async (t) => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH, PORT: 'not-a-port', JOB_QUEUE_LIMIT: '-5' },
    encoding: 'utf8',
    // Compiling the server with tsx takes seconds, and many more on a CI machine running two suites at once.
    timeout: 90_000,
  });
  t.equal(result.status, 78);
  t.match(result.stderr, /Invalid configuration/);
  t.match(result.stderr, /PORT/);
  t.match(result.stderr, /JOB_QUEUE_LIMIT/);
});

t.test('.env.example lists every variable with its default', async (t) => {
  t.equal(
    readFileSync(new URL('../.env.example', import.meta.url), 'utf8'),
    renderEnvExample(),
    'run `npm run env:example` after changing src/config.ts',
  );
});
