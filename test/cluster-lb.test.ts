// Cluster mode end to end: the SDK talks to three instances through nginx (round-robin, no sticky
// sessions, WebSocket upgrades passed through), so a job is posted to one instance, run by any,
// and followed on whichever instance the client's socket reached.
import t from 'tap';
import { createClient, type JobEvent, type Transport } from '../src/client/index.js';
import { Cluster } from './fixtures/cluster.js';
import { NginxBalancer, nginxMissing } from './fixtures/nginx.js';
import { redisMissing } from './fixtures/redis-server.js';

t.setTimeout(600_000);

const CLIENTS = 4;
const JOBS_PER_CLIENT = 5;

t.test(
  'through nginx in front of 3 instances, the SDK generates 20 specs at once: all complete, all streamed live over the WebSocket',
  { skip: redisMissing || nginxMissing },
  async (t) => {
    const cluster = await Cluster.start(t, { instances: 3, chunks: 8, delayMs: 100 });
    const nginx = await NginxBalancer.start(
      t,
      cluster.instances.map((i) => new URL(i.server.url).host),
    );
    // Several clients, so that their sockets land on different instances too.
    const clients = Array.from({ length: CLIENTS }, () => {
      const client = createClient({ baseUrl: nginx.url, pollIntervalMs: 100, reconnectBaseMs: 50 });
      t.after(() => client.close());
      return client;
    });

    const generations = clients.flatMap((client, c) =>
      Array.from({ length: JOBS_PER_CLIENT }, async (_, j) => {
        const idea = `A carpool board for the school run (family ${c * JOBS_PER_CLIENT + j + 1} of ${CLIENTS * JOBS_PER_CLIENT})`;
        const updates: JobEvent[] = [];
        const transports: Transport[] = [];
        const spec = await client.generateSpec(idea, {
          onUpdate: (event) => updates.push(event),
          onTransport: (transport) => transports.push(transport),
        });
        return { idea, spec, updates, transports };
      }),
    );
    const results = await Promise.all(generations);

    t.equal(results.length, CLIENTS * JOBS_PER_CLIENT);
    for (const { idea, spec, updates, transports } of results) {
      const [run] = cluster.runsOf(idea);
      const deltas = updates.filter((u) => u.delta);
      const ended = updates.findIndex((u) => u.status === 'completed');
      const problems = {
        status: spec.status,
        transports,
        storedByTheRunner: run !== undefined && spec.generatedSpec === cluster.specOf(run.instance),
        deltas: deltas.length,
        deltasBeforeTheEnd: deltas.length > 0 && updates.indexOf(deltas.at(-1)!) < ended,
        textFromDeltas: deltas.map((u) => u.delta).join('') === spec.generatedSpec,
        inOrder: updates.every((u, i) => i === 0 || u.seq > updates[i - 1]!.seq),
      };
      t.same(
        problems,
        {
          status: 'completed',
          transports: ['websocket'],
          storedByTheRunner: true,
          deltas: 8,
          deltasBeforeTheEnd: true,
          textFromDeltas: true,
          inOrder: true,
        },
        `"${idea}": completed, streamed live over the WebSocket, delta by delta, in order`,
      );
    }
    const ranOn = new Set(results.map(({ idea }) => cluster.runsOf(idea)[0]?.instance.name));
    t.ok(
      ranOn.size >= 2,
      `the jobs ran on several instances (${[...ranOn].join(', ')}), so some were followed from another`,
    );
  },
);
