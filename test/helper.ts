import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { isTerminal } from '../src/jobs/transitions.js';
import type { JobEvent } from '../src/schemas/jobs.js';
import type { Resolver } from '../src/webhooks/address-policy.js';
import { Wakeup } from './wakeup.js';

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Tap {
  after(fn: () => unknown): void;
}

export function tempDir(t: Tap, prefix = 'idea2spec-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface BuildOptions {
  config?: Partial<Config>;
  env?: NodeJS.ProcessEnv;
  /** Reuse a database file (restart scenarios). */
  dbFile?: string;
  listen?: boolean;
  /** Stands in for DNS when webhook hosts are resolved. */
  webhookResolver?: Resolver;
  /** A built web app (test/browser.ts builds one); default dist/web. */
  webRoot?: string;
}

/** The app exactly as production builds it, on a fresh database, closed when the test ends. */
export async function build(t: Tap, options: BuildOptions = {}): Promise<FastifyInstance> {
  const dbFile = options.dbFile ?? join(tempDir(t), 'test.db');
  const config = loadConfig(
    {},
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      TURSO_DATABASE_URL: `file:${dbFile}`,
      GENERATOR: 'offline',
      GEMINI_RETRY_BASE_MS: 10,
      GEMINI_KILL_GRACE_MS: 200,
      RATE_LIMIT_MAX: 100_000,
      GENERATE_RATE_LIMIT_MAX: 100_000,
      SHUTDOWN_GRACE_MS: 500,
      // No background `gemini --version`: tests that count CLI invocations see only their jobs' (health tests turn it on).
      GEMINI_HEALTH_CHECK_MS: 0,
      ...options.config,
    },
  );
  const app = await buildApp({
    config,
    generatorEnv: options.env ?? { PATH: process.env.PATH, HOME: process.env.HOME },
    webhookResolver: options.webhookResolver,
    webRoot: options.webRoot,
  });
  t.after(() => app.close());
  if (options.listen) await app.listen({ port: 0, host: '127.0.0.1' });
  else await app.ready();
  return app;
}

export function baseUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('app is not listening');
  return `http://127.0.0.1:${address.port}`;
}

/** The WebSocket endpoint of a listening app. */
export function wsUrl(app: FastifyInstance): string {
  return `${baseUrl(app).replace('http', 'ws')}/api/ws`;
}

/** Environment for the fake Gemini CLI fixture, with an invocation log the test can read. */
export function fakeGemini(t: Tap, mode: string, extra: NodeJS.ProcessEnv = {}) {
  const log = join(tempDir(t), 'calls.jsonl');
  return {
    config: { GENERATOR: 'gemini' as const, GEMINI_CLI_PATH: fixture('fake-gemini.mjs') },
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GEMINI_FAKE_MODE: mode, GEMINI_FAKE_LOG: log, ...extra },
    calls(): Array<Record<string, any>> {
      return existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [];
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A real WebSocket client that keeps every message, for asserting order and content. */
export class WsClient {
  readonly messages: any[] = [];
  private readonly arrivals = new Wakeup();
  closeCode: number | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      this.arrivals.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.arrivals.wake();
    });
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    const socket = new WebSocket(url, options);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    });
    return new WsClient(socket);
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Waits until a message matching the predicate has arrived (searching from index `from`). */
  async next(predicate: (m: any) => boolean, { from = 0, timeoutMs = 15_000 } = {}): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) before the message arrived`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      await this.arrivals.wait(left);
    }
  }

  events(jobId: string): JobEvent[] {
    return this.messages.filter((m) => m.type === 'job-update' && m.jobId === jobId);
  }

  async waitForEnd(jobId: string): Promise<JobEvent> {
    return this.next((m) => m.type === 'job-update' && m.jobId === jobId && isTerminal(m.status));
  }

  async close(): Promise<void> {
    if (this.closeCode !== undefined) return;
    const closed = new Promise((r) => this.socket.once('close', r));
    this.socket.close();
    await closed;
  }
}

export async function submit(
  app: FastifyInstance,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return app.inject({ method: 'POST', url: '/api/generate', payload: body, headers });
}

export async function waitForJob(app: FastifyInstance, jobId: string, timeoutMs = 20_000) {
  return waitFor(
    async () => {
      const res = await app.inject({ method: 'GET', url: `/api/job/${jobId}/status` });
      const body = res.json();
      return isTerminal(body.status) ? body : undefined;
    },
    { timeoutMs, what: `job ${jobId} to end` },
  );
}
