import { existsSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

// A .env in the working directory is read if present; real environment variables win.
if (existsSync('.env')) process.loadEnvFile('.env');

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`idea2spec: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const app = await buildApp({ config });

// A second signal during shutdown exits at once (close-with-grace).
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS + 10_000, logger: app.log }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal }, 'shutting down');
  // A shutdown that takes longer than running jobs are given says what it is still waiting on.
  const slow = setInterval(
    () => app.log.warn({ waitingOn: process.getActiveResourcesInfo() }, 'shutdown is taking long'),
    config.SHUTDOWN_GRACE_MS + 2000,
  ).unref();
  // Running jobs have had their grace (preClose); a client that keeps a response in flight (one it does not
  // read, a stuck upload) must not hold the shutdown: its connection is cut.
  const cut = setTimeout(() => app.server.closeAllConnections(), config.SHUTDOWN_GRACE_MS + 3000).unref();
  await app.close();
  clearInterval(slow);
  clearTimeout(cut);
});

try {
  await app.listen({ port: config.PORT, host: config.HOST });
} catch (err) {
  app.log.fatal({ err }, 'could not listen');
  process.exit(1);
}
