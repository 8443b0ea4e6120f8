import { createServer, type Server } from 'node:http';
import { createClient } from '@libsql/client';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { startInstances } from './fixtures/cluster.js';
import { NginxBalancer, nginxMissing } from './fixtures/nginx.js';
import { RedisServer, redisMissing, redisPing } from './fixtures/redis-server.js';
import { SqldServer, sqldMissing } from './fixtures/sqld-server.js';
import { tempDir, WsClient } from './helper.js';

t.test(
  'a private redis-server answers, stops, comes back on the same port, and can be killed',
  { skip: redisMissing },
  async (t) => {
    const redis = await RedisServer.start(t);
    t.ok(await redisPing(redis.port), 'PONG');
    t.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);

    await redis.stop();
    t.notOk(await redisPing(redis.port), 'nothing answers once stopped');

    await redis.start();
    t.ok(await redisPing(redis.port), 'answers again on the same port');

    const pid = redis.pid;
    await redis.kill();
    t.notOk(await redisPing(redis.port), 'nothing answers once killed');
    t.throws(() => process.kill(pid!, 0), 'the process is gone');
  },
);

t.test(
  'a private redis-server with persistence keeps its data across a restart; one without starts empty',
  { skip: redisMissing },
  async (t) => {
    for (const persist of [true, false]) {
      const redis = await RedisServer.start(t, { persist });
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      t.after(() => client.disconnect());
      await client.set('accepted', 'job-1');
      await redis.stop();
      await redis.start();
      t.equal(await client.get('accepted'), persist ? 'job-1' : null, persist ? 'kept' : 'gone');
    }
  },
);

t.test(
  'a private sqld serves libSQL over HTTP on loopback, FTS5 trigram included',
  { skip: sqldMissing },
  async (t) => {
    const sqld = await SqldServer.start(t);
    const client = createClient({ url: sqld.url });
    t.after(() => client.close());
    await client.execute('CREATE VIRTUAL TABLE notes USING fts5(body, tokenize = "trigram")');
    await client.execute({ sql: 'INSERT INTO notes (body) VALUES (?)', args: ['一個幫助家庭分配家務的應用程式'] });
    const { rows } = await client.execute({ sql: 'SELECT body FROM notes WHERE notes MATCH ?', args: ['分配家務'] });
    t.same(
      rows.map((r) => r.body),
      ['一個幫助家庭分配家務的應用程式'],
    );
  },
);

/** A backend that names itself over HTTP and over WebSocket. */
async function backend(t: { after(fn: () => unknown): void }, name: string): Promise<string> {
  const server: Server = createServer((req, res) => res.end(JSON.stringify({ name, url: req.url })));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`${name}:${data.toString()}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

t.test(
  'nginx balances round-robin with no stickiness and passes WebSocket upgrades through',
  { skip: nginxMissing },
  async (t) => {
    const upstreams = [await backend(t, 'a'), await backend(t, 'b')];
    const nginx = await NginxBalancer.start(t, upstreams);

    const names: string[] = [];
    for (let i = 0; i < 6; i++)
      names.push(((await (await fetch(`${nginx.url}/api/x?i=${i}`)).json()) as { name: string }).name);
    t.same(names.slice(0, 2).sort(), ['a', 'b'], 'consecutive requests from one client reach different instances');
    t.same(names, [names[0], names[1], names[0], names[1], names[0], names[1]], 'in turn');

    const replies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = new WebSocket(`ws://127.0.0.1:${nginx.port}/api/ws`);
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      socket.send('hello');
      replies.push(await new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString()))));
      socket.close();
    }
    t.same(
      replies.map((r) => r.replace(/^[ab]:/, '')),
      ['hello', 'hello'],
      'frames cross the balancer both ways',
    );
    t.same(replies.map((r) => r[0]).sort(), ['a', 'b'], 'upgrades are balanced too');
  },
);

t.test(
  'nginx in front of two instances of the service on one database: HTTP both ways round, WebSocket through',
  { skip: nginxMissing },
  async (t) => {
    const servers = await startInstances(t, 2, {
      TURSO_DATABASE_URL: `file:${join(tempDir(t), 'shared.db')}`,
      GENERATOR: 'offline',
    });
    const nginx = await NginxBalancer.start(
      t,
      servers.map((s) => new URL(s.url).host),
    );

    const posted = await fetch(`${nginx.url}/api/generate?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ idea: 'A noticeboard for lost and found pets on one street' }),
    });
    t.equal(posted.status, 200);
    const spec = (await posted.json()) as { id: number; status: string; generatedSpec: string };
    t.equal(spec.status, 'completed');
    for (let i = 0; i < 2; i++) {
      const read = (await (await fetch(`${nginx.url}/api/spec/${spec.id}`)).json()) as { generatedSpec: string };
      t.equal(read.generatedSpec, spec.generatedSpec, `read ${i + 1} (each instance in turn) finds it`);
    }

    const ws = await WsClient.open(`ws://127.0.0.1:${nginx.port}/api/ws`, { origin: 'http://127.0.0.1:3001' });
    t.after(() => ws.close());
    ws.send({ type: 'ping' });
    t.same(
      await ws.next((m) => m.type === 'pong'),
      { type: 'pong' },
      'the service answers over a WebSocket through the balancer',
    );
  },
);
