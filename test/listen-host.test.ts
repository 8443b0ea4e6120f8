import { networkInterfaces } from 'node:os';
import t from 'tap';
import { ServerProcess } from './fixtures/server-process.js';
import { tempDir, waitFor } from './helper.js';

// A first `npm start` must not serve every route to the network: loopback unless HOST says otherwise,
// and a warning whenever the service is reachable from elsewhere with no API key.

const WARNING = /listening beyond loopback without API_KEY/;

async function start(t: Parameters<typeof tempDir>[0], env: NodeJS.ProcessEnv) {
  const server = await ServerProcess.start({
    LOG_LEVEL: 'info',
    TURSO_DATABASE_URL: `file:${tempDir(t)}/host.db`,
    GENERATOR: 'offline',
    ...env,
  });
  t.after(() => server.stop());
  return server;
}

t.test('without HOST the service listens on loopback only, and does not warn', async (t) => {
  const server = await start(t, { HOST: undefined });
  await waitFor(() => /Server listening at/.test(server.output), { what: 'the listening line' });
  const listening = [...server.output.matchAll(/Server listening at (http:\/\/\S+?)"/g)].map((m) => m[1]);
  t.same(listening, [server.url], 'one address, on loopback');
  t.notMatch(server.output, WARNING);
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (external) {
    const reached = await fetch(`http://${external.address}:${new URL(server.url).port}/api/live`).then(
      () => true,
      () => false,
    );
    t.notOk(reached, `not reachable on ${external.address}`);
  }
});

t.test('HOST=0.0.0.0 without API_KEY logs a warning naming the exposed address', async (t) => {
  const server = await start(t, { HOST: '0.0.0.0' });
  // The server answers before the logger has necessarily flushed the warning to its pipe.
  const line = await waitFor(() => server.output.split('\n').find((l) => WARNING.test(l)), { what: 'the warning' });
  t.match(JSON.parse(line), { level: 40, addresses: [`0.0.0.0:${new URL(server.url).port}`] });
});

t.test('HOST=0.0.0.0 with API_KEY does not warn', async (t) => {
  const server = await start(t, { HOST: '0.0.0.0', API_KEY: 'host-test-key-0123456789' });
  await waitFor(() => /Server listening at/.test(server.output), { what: 'the listening line' });
  t.notMatch(server.output, WARNING);
});
