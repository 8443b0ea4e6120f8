import t from 'tap';
import { startInstances } from './fixtures/cluster.js';
import { searchIds } from './fixtures/ideas.js';
import { SqldServer, sqldMissing } from './fixtures/sqld-server.js';
import { build } from './helper.js';

t.test(
  'on a libSQL server (sqld) the migrations apply and ideas are generated, stored and searched',
  { skip: sqldMissing },
  async (t) => {
    const sqld = await SqldServer.start(t);
    const app = await build(t, { config: { TURSO_DATABASE_URL: sqld.url } });

    const health = (await app.inject({ url: '/api/health' })).json();
    t.equal(health.services.database.status, 'OK');
    t.equal(
      health.services.database.migrationsApplied,
      true,
      'every migration applied, FTS5 tables and triggers included',
    );

    const english = await app.inject({
      method: 'POST',
      url: '/api/generate?wait=true',
      payload: { idea: 'A lending library for power tools in a small town' },
    });
    t.equal(english.statusCode, 200);
    t.equal(english.json().status, 'completed');
    const chinese = await app.inject({
      method: 'POST',
      url: '/api/generate?wait=true',
      payload: { idea: '一個幫助家庭分配家務的應用程式' },
    });
    t.equal(chinese.json().status, 'completed');

    t.same(await searchIds(app, 'tools'), [english.json().id], 'word search (porter stemming: "tools" finds "tools")');
    t.same(await searchIds(app, 'lend'), [english.json().id], 'stemmed: "lend" finds "lending"');
    t.same(await searchIds(app, '分配家務'), [chinese.json().id], 'trigram search over Chinese');
    const stats = (await app.inject({ url: '/api/history/stats' })).json();
    t.equal(stats.byStatus.completed, 2, 'the status-count triggers ran on the server');

    const deleted = await app.inject({ method: 'DELETE', url: `/api/history/${english.json().id}` });
    t.equal(deleted.statusCode, 200);
    t.same(await searchIds(app, 'tools'), [], 'the delete trigger cleaned the index');
  },
);

t.test(
  'two instances starting at once on one sqld migrate it once and serve the same data',
  { skip: sqldMissing },
  async (t) => {
    const sqld = await SqldServer.start(t);
    const [a, b] = await startInstances(t, 2, { TURSO_DATABASE_URL: sqld.url, GENERATOR: 'offline' });
    const posted = await a.request('POST', '/api/generate?wait=true', { idea: 'A carpool planner for a rural school' });
    t.equal(posted.body.status, 'completed');
    const found = await b.request('GET', '/api/history?search=carpool');
    t.same(
      found.body.data.map((d: { id: number }) => d.id),
      [posted.body.id],
      'the other instance finds it',
    );
    t.notMatch(a.output + b.output, /already exists/, 'no migration race');
  },
);
