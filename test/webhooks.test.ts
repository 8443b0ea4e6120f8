import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { build, submit, tempDir, waitFor } from './helper.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const IDEA = 'A recipe planner that builds a shopping list';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: answers each POST with the next status in `answers` (the last one repeats). */
async function receiver(t: { after(fn: () => unknown): void }, answers: number[]) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = answers[Math.min(received.length - 1, answers.length - 1)];
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/idea2spec`;
  return { url, received, answers };
}

/** Webhooks to a local receiver: http and 127.0.0.1 allowed explicitly, quick retries. */
const local = {
  WEBHOOK_SECRET: SECRET,
  WEBHOOK_ALLOW_HTTP: true,
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_RETRY_BASE_MS: 20,
  WEBHOOK_POLL_MS: 20,
};

async function webhookOf(app: Awaited<ReturnType<typeof build>>, ideaId: number) {
  return (await app.inject({ url: `/api/v1/spec/${ideaId}` })).json().webhook;
}

t.test(
  'the final event is delivered, signed, after the receiver fails twice; the idea shows the delivery',
  async (t) => {
    const hook = await receiver(t, [500, 503, 204]);
    const app = await build(t, { config: local });
    const accepted = await submit(app, { idea: IDEA, webhookUrl: hook.url });
    t.equal(accepted.statusCode, 202);
    const { id } = accepted.json();

    const webhook = await waitFor(
      async () => {
        const w = await webhookOf(app, id);
        return w?.status === 'delivered' ? w : undefined;
      },
      { what: 'the webhook to be delivered' },
    );
    t.equal(webhook.attempts, 3, 'two failures, then the delivery');
    t.equal(webhook.lastStatusCode, 204);
    t.equal(webhook.url, hook.url);
    t.ok(webhook.deliveredAt);

    t.equal(hook.received.length, 3);
    const verifier = new Webhook(SECRET);
    for (const { headers, body } of hook.received) {
      const event = verifier.verify(body, headers as Record<string, string>) as Record<string, unknown>;
      t.equal(event.type, 'job-update');
      t.equal(event.ideaId, id);
      t.equal(event.status, 'completed', 'the final envelope');
    }
    t.equal(new Set(hook.received.map((r) => r.headers['webhook-id'])).size, 1, 'the same webhook-id on every retry');
    const forged = hook.received[0].body.replace('completed', 'cancelled');
    t.throws(
      () => verifier.verify(forged, hook.received[0].headers as Record<string, string>),
      'a changed body fails verification',
    );
  },
);

t.test(
  'a retry with the same Idempotency-Key stores the webhook the first try may not have; an idea keeps its first webhook',
  async (t) => {
    const hook = await receiver(t, [200]);
    const other = await receiver(t, [200]);
    const app = await build(t, { config: local });
    const first = await submit(app, { idea: IDEA }, { 'idempotency-key': 'retry-1' });
    const retried = await submit(app, { idea: IDEA, webhookUrl: hook.url }, { 'idempotency-key': 'retry-1' });
    t.equal(retried.headers['idempotent-replayed'], 'true');
    t.equal(retried.json().jobId, first.json().jobId);
    await submit(app, { idea: IDEA, webhookUrl: other.url }, { 'idempotency-key': 'retry-1' });
    const webhook = await waitFor(
      async () => {
        const w = await webhookOf(app, first.json().id);
        return w?.status === 'delivered' ? w : undefined;
      },
      { what: 'the delivery' },
    );
    t.equal(webhook.url, hook.url);
    t.equal(hook.received.length, 1, 'delivered once');
    t.equal(other.received.length, 0, 'a later URL does not replace the first');
  },
);

t.test('a delivery still owed when the service stops is made by the next start', async (t) => {
  const hook = await receiver(t, [503]);
  const dbFile = join(tempDir(t), 'webhooks.db');
  const first = await build(t, { dbFile, config: { ...local, WEBHOOK_MAX_ATTEMPTS: 50 } });
  const { id } = (await submit(first, { idea: IDEA, webhookUrl: hook.url })).json();
  await waitFor(async () => (await webhookOf(first, id))?.attempts >= 1, { what: 'a failed attempt' });
  await first.close();
  const failedBefore = hook.received.length;
  t.equal(
    (
      await webhookOf(
        await build(t, { dbFile, config: { ...local, WEBHOOK_POLL_MS: 600_000, WEBHOOK_SECRET: undefined } }),
        id,
      )
    ).status,
    'pending',
    'stored as pending, nothing sent without a secret',
  );

  hook.answers.splice(0, hook.answers.length, 200);
  const second = await build(t, { dbFile, config: local });
  const webhook = await waitFor(
    async () => {
      const w = await webhookOf(second, id);
      return w?.status === 'delivered' ? w : undefined;
    },
    { what: 'delivery after the restart' },
  );
  t.ok(webhook.attempts > failedBefore - 1, 'the attempts count carried over');
  const last = hook.received.at(-1)!;
  t.equal(
    (new Webhook(SECRET).verify(last.body, last.headers as Record<string, string>) as { ideaId: number }).ideaId,
    id,
  );
});

t.test('webhookUrl naming a loopback, private, link-local or metadata address is refused with 400', async (t) => {
  const app = await build(t, { config: { WEBHOOK_SECRET: SECRET } });
  for (const url of [
    'http://127.0.0.1/hook',
    'https://127.0.0.1/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.1.2.3/hook',
    'https://192.168.0.10/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:a9fe:a9fe]/hook',
    'https://[fd00:ec2::254]/hook',
    'https://[fe80::1]/hook',
    'https://0x7f000001/hook',
    'https://localhost/hook',
  ]) {
    const res = await submit(app, { idea: IDEA, webhookUrl: url });
    t.equal(res.statusCode, 400, url);
    t.equal(res.json().code, 'INVALID_WEBHOOK_URL', url);
  }
  const plain = await submit(app, { idea: IDEA, webhookUrl: 'http://hooks.example.com/x' });
  t.equal(plain.statusCode, 400, 'http is refused unless WEBHOOK_ALLOW_HTTP');
  t.match(plain.json().message, /https/);
  t.equal((await submit(app, { idea: IDEA, webhookUrl: 'not a url' })).statusCode, 400);

  const withHttp = await build(t, { config: { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_HTTP: true } });
  for (const url of [
    'http://127.0.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
  ]) {
    const res = await submit(withHttp, { idea: IDEA, webhookUrl: url });
    t.equal(res.statusCode, 400, `${url}, with http allowed`);
    t.match(res.json().message, /loopback|linkLocal/, 'the address itself is the reason');
  }

  const history = (await app.inject({ url: '/api/v1/history' })).json();
  t.equal(history.pagination.total, 0, 'no refused request created an idea');

  const unsigned = await build(t);
  const refused = await submit(unsigned, { idea: IDEA, webhookUrl: 'https://hooks.example.com/x' });
  t.equal(refused.statusCode, 400);
  t.equal(refused.json().code, 'WEBHOOKS_NOT_CONFIGURED');
});

t.test(
  'IPv6 outside the global unicast block 2000::/3 is refused, the IPv4-compatible ::a.b.c.d form included',
  async (t) => {
    // ::127.0.0.1 is written ::7f00:1 by the URL parser: an IPv6 address that embeds an IPv4 one, like the mapped form.
    const resolver = async (hostname: string) => [
      { address: hostname === 'compat.example.test' ? '::7f00:1' : '2606:4700::1111', family: 6 },
    ];
    const app = await build(t, { config: { WEBHOOK_SECRET: SECRET }, webhookResolver: resolver });
    for (const url of [
      'https://[::127.0.0.1]/hook',
      'https://[::a9fe:a9fe]/hook',
      'https://[::a00:7]/hook',
      'https://[1::1]/hook',
      'https://[4000::1]/hook',
      'https://compat.example.test/hook',
    ]) {
      const res = await submit(app, { idea: IDEA, webhookUrl: url });
      t.equal(res.statusCode, 400, url);
      t.equal(res.json().code, 'INVALID_WEBHOOK_URL', url);
    }
    for (const url of ['https://[2606:4700::1111]/hook', 'https://public.example.test/hook']) {
      t.equal((await submit(app, { idea: IDEA, webhookUrl: url })).statusCode, 202, `${url} is public`);
    }
  },
);

t.test(
  'a hostname that resolves to a private address is refused at POST and again at delivery (DNS rebinding)',
  async (t) => {
    let answer = '93.184.215.14';
    const lookups: string[] = [];
    const resolver = async (hostname: string) => {
      lookups.push(hostname);
      return [{ address: hostname === 'internal.example.test' ? '10.0.0.7' : answer, family: 4 }];
    };
    const app = await build(t, {
      config: { WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_BASE_MS: 20, WEBHOOK_POLL_MS: 20 },
      webhookResolver: resolver,
    });

    const direct = await submit(app, { idea: IDEA, webhookUrl: 'https://internal.example.test/hook' });
    t.equal(direct.statusCode, 400, 'resolves to 10.0.0.7: refused at POST');
    t.match(direct.json().message, /10\.0\.0\.7/);

    // Public when the request is checked, then the name is pointed at the metadata service before delivery.
    const rebinding = await submit(app, { idea: IDEA, webhookUrl: 'https://rebind.example.test/hook' });
    t.equal(rebinding.statusCode, 202);
    answer = '169.254.169.254';
    const webhook = await waitFor(
      async () => {
        const w = await webhookOf(app, rebinding.json().id);
        return w?.status === 'failed' ? w : undefined;
      },
      { what: 'the delivery to be refused' },
    );
    t.equal(webhook.attempts, 1, 'a refused address is not retried');
    t.match(webhook.lastError, /169\.254\.169\.254/);
    t.notOk(webhook.lastStatusCode, 'nothing was sent');
    t.ok(lookups.filter((h) => h === 'rebind.example.test').length >= 2, 'resolved at POST and again at delivery');

    const allowedApp = await build(t, {
      config: { WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOWED_HOSTS: 'internal.example.test' },
      webhookResolver: resolver,
    });
    t.equal(
      (await submit(allowedApp, { idea: IDEA, webhookUrl: 'https://internal.example.test/hook' })).statusCode,
      202,
      'a host in WEBHOOK_ALLOWED_HOSTS is let through',
    );
  },
);
