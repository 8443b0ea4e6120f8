/**
 * `npm run db:seed -- --ideas 100000 [--url file:./data/seed.db] [--seed 42]`:
 * fills a database with realistic ideas and ~2 KB specs in English and Chinese
 * (see seed-data.ts), through the same migrations and triggers the service uses,
 * so the search index and the status counts are filled as they would be in use.
 * The URL defaults to TURSO_DATABASE_URL, then to the service's default.
 */
import { parseArgs } from 'node:util';
import type { Client, InArgs } from '@libsql/client';
import { createBigramIndexer } from '../src/db/bigram-index.js';
import { openDatabase } from '../src/db/client.js';
import { loadConfig } from '../src/config.js';
import { ideaFactory, type SeedOptions } from './seed-data.js';

const COLUMNS = [
  'job_id',
  'user_input',
  'generated_spec',
  'status',
  'template',
  'generator',
  'model',
  'attempts',
  'error_code',
  'error_message',
  'processing_time_ms',
  'output_length',
  'metadata',
  'created_at',
  'updated_at',
  'started_at',
  'completed_at',
] as const;
/** Rows per INSERT (17 parameters each, far below SQLite's limit) and INSERTs per transaction. */
const ROWS_PER_STATEMENT = 50;
const STATEMENTS_PER_TRANSACTION = 20;

/** Appends `count` ideas, oldest first, in transactions of 1,000 rows; reports progress after each one. */
export async function seedIdeas(
  client: Client,
  count: number,
  options: SeedOptions = {},
  onProgress?: (done: number) => void,
): Promise<void> {
  const make = ideaFactory(count, options);
  const placeholders = `(${COLUMNS.map(() => '?').join(', ')})`;
  // The rows go in by plain INSERTs; the index of short runs is written by the application, as the service does.
  const bigrams = createBigramIndexer(client, {
    onError: (err) => {
      throw err;
    },
  });
  for (let done = 0; done < count;) {
    const statements: Array<{ sql: string; args: InArgs }> = [];
    for (let s = 0; s < STATEMENTS_PER_TRANSACTION && done < count; s++) {
      const rows = Math.min(ROWS_PER_STATEMENT, count - done);
      const args: InArgs = [];
      for (let r = 0; r < rows; r++) {
        const idea = make(done + r);
        args.push(
          idea.jobId,
          idea.userInput,
          idea.generatedSpec ?? '',
          idea.status,
          idea.template,
          idea.generator,
          idea.model ?? null,
          idea.attempts ?? 0,
          idea.errorCode ?? null,
          idea.errorMessage ?? null,
          idea.processingTimeMs ?? null,
          idea.outputLength ?? 0,
          JSON.stringify(idea.metadata ?? {}),
          idea.createdAt,
          idea.updatedAt,
          idea.startedAt ?? null,
          idea.completedAt ?? null,
        );
      }
      statements.push({
        sql: `INSERT INTO ideas (${COLUMNS.join(', ')}) VALUES ${Array(rows).fill(placeholders).join(', ')}`,
        args,
      });
      done += rows;
    }
    await client.batch(statements, 'write');
    await bigrams.catchUpAll();
    onProgress?.(done);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { ideas: { type: 'string', default: '1000' }, url: { type: 'string' }, seed: { type: 'string' } },
  });
  const count = Number(values.ideas);
  if (!Number.isSafeInteger(count) || count < 1)
    throw new Error(`--ideas must be a positive integer (got ${values.ideas})`);
  const config = loadConfig(process.env, values.url ? { TURSO_DATABASE_URL: values.url } : {});
  const { client } = await openDatabase(config.TURSO_DATABASE_URL, config.TURSO_AUTH_TOKEN);
  const started = performance.now();
  try {
    await seedIdeas(client, count, { seed: values.seed === undefined ? Date.now() : Number(values.seed) }, (done) => {
      if (done % 10_000 === 0 || done === count)
        process.stdout.write(`  ${done.toLocaleString('en')} / ${count.toLocaleString('en')} ideas\n`);
    });
    const { rows } = await client.execute('SELECT count(*) AS n FROM ideas');
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `seeded ${count.toLocaleString('en')} ideas into ${config.TURSO_DATABASE_URL.replace(/\?.*$/, '')} in ${seconds.toFixed(1)} s (${rows[0].n} in total)`,
    );
  } finally {
    client.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
