import fp from 'fastify-plugin';
import type { Client } from '@libsql/client';
import { openDatabase, type Database } from '../db/client.js';
import { createIdeaRepository, type IdeaRepository } from '../db/ideas-repository.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Database;
    dbClient: Client;
    ideas: IdeaRepository;
  }
}

/** Drizzle over libSQL: opened and migrated before the server listens, closed last. */
export default fp(
  async function dbPlugin(app) {
    const { TURSO_DATABASE_URL, TURSO_AUTH_TOKEN } = app.config;
    const { client, db } = await openDatabase(TURSO_DATABASE_URL, TURSO_AUTH_TOKEN);
    app.decorate('db', db);
    app.decorate('dbClient', client);
    app.decorate('ideas', createIdeaRepository(db));
    app.addHook('onClose', async () => client.close());
    app.log.info({ url: redactUrl(TURSO_DATABASE_URL) }, 'database ready');
  },
  { name: 'db', dependencies: ['config'] },
);

function redactUrl(url: string): string {
  return url.replace(/\?.*$/, '');
}
