import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import t from 'tap';
import { openDatabase } from '../src/db/client.js';
import { SPACELESS_GLOB_CLASS } from '../src/db/search-terms.js';
import { migrationsFolder } from '../src/paths.js';
import { build, tempDir } from './helper.js';
import { searchIds } from './fixtures/ideas.js';

const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
  entries: Array<{ tag: string }>;
};

async function schemaObjects(url: string): Promise<string[]> {
  const client = createClient({ url });
  const { rows } = await client.execute(
    "SELECT type || ' ' || name AS o FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1",
  );
  client.close();
  return rows.map((r) => String(r.o));
}

t.test('migrations apply cleanly on an empty database, and again as a no-op', async (t) => {
  const url = `file:${join(tempDir(t), 'empty.db')}`;
  (await openDatabase(url)).client.close();
  const objects = await schemaObjects(url);
  for (const expected of [
    'table ideas',
    'table idea_status_counts',
    'table ideas_fts',
    'table ideas_fts_trigram',
    'table ideas_fts_bigram',
    'view ideas_bigram_source',
    'trigger ideas_search_insert',
    'trigger ideas_search_update',
    'trigger ideas_search_delete',
    'trigger ideas_bigram_insert',
    'trigger ideas_bigram_update',
    'trigger ideas_bigram_delete',
    'trigger ideas_counts_insert',
    'trigger ideas_counts_update',
    'trigger ideas_counts_delete',
    'index ideas_completed_time_idx',
  ]) {
    t.ok(objects.includes(expected), expected);
  }
  t.notOk(objects.includes('table ideas_fts_trigram_vocab'), 'the vocabulary table, no longer read, is gone');
  (await openDatabase(url)).client.close();
  t.same(await schemaObjects(url), objects, 'a second start changes nothing');
  const client = createClient({ url });
  t.equal(
    Number((await client.execute('SELECT count(*) AS n FROM __drizzle_migrations')).rows[0].n),
    journal.entries.length,
    'every migration recorded once',
  );
  client.close();
});

t.test('migrations apply cleanly on a database created by the previous migration set, with data in it', async (t) => {
  const dir = tempDir(t);
  // The previous set: the first migration only, as the core release shipped it.
  const previous = join(dir, 'previous-migrations');
  mkdirSync(join(previous, 'meta'), { recursive: true });
  copyFileSync(
    join(migrationsFolder, `${journal.entries[0].tag}.sql`),
    join(previous, `${journal.entries[0].tag}.sql`),
  );
  writeFileSync(
    join(previous, 'meta/_journal.json'),
    JSON.stringify({ ...journal, entries: journal.entries.slice(0, 1) }),
  );

  const dbFile = join(dir, 'existing.db');
  const client = createClient({ url: `file:${dbFile}` });
  await migrate(drizzle(client), { migrationsFolder: previous });
  const now = Date.now();
  const rows = [
    ['A running club for busy parents', '## Overview\nWeekly runs in the park.', 'completed', 12_000],
    ['一個幫助家庭分配家務的應用程式', '## 概述\n每週輪換家務。', 'completed', 30_000],
    ['A recipe swap for grandparents', '', 'failed', 500],
  ] as const;
  for (const [i, [idea, spec, status, ms]] of rows.entries()) {
    await client.execute({
      sql: `INSERT INTO ideas (job_id, user_input, generated_spec, status, template, generator, attempts, processing_time_ms, output_length, created_at, updated_at)
            VALUES (?, ?, ?, ?, 'standard', 'offline', 1, ?, ?, ?, ?)`,
      args: [`00000000-0000-4000-8000-00000000000${i}`, idea, spec, status, ms, spec.length, now - i, now - i],
    });
  }
  client.close();

  const app = await build(t, { dbFile });
  const stats = (await app.inject({ url: '/api/history/stats' })).json();
  t.equal(stats.total, 3, 'ideas from before the migration are counted');
  t.same(stats.byStatus, { queued: 0, started: 0, processing: 0, completed: 2, failed: 1, cancelled: 0 });
  t.same([stats.processingTime.count, stats.processingTime.averageMs], [2, 21_000]);
  t.same(await searchIds(app, 'runs'), [1], 'and searchable by word');
  t.same(await searchIds(app, '家務'), [2], 'and by two Chinese characters');
  t.same(await searchIds(app, 'recipe', { status: 'failed' }), [3]);

  const res = await app.inject({
    method: 'POST',
    url: '/api/generate?wait=true',
    payload: { idea: 'A new idea after the upgrade, about bicycles' },
  });
  t.equal(res.statusCode, 200);
  t.same(await searchIds(app, 'bicycle'), [res.json().id], 'the triggers keep the index current from then on');
  t.equal((await app.inject({ url: '/api/history/stats' })).json().byStatus.completed, 3);
});

t.test('the trigram and bigram indexes cover exactly the scripts the query parser sends to them', async (t) => {
  const trigram = readFileSync(join(migrationsFolder, '0002_search_index.sql'), 'utf8');
  const classes = trigram.match(/GLOB '\*(\[[^\]]+\])\*'/g) ?? [];
  t.equal(classes.length, 6, 'insert, update and backfill, for the idea and the spec');
  for (const glob of classes) t.equal(glob, `GLOB '*${SPACELESS_GLOB_CLASS}*'`);

  const bigram = readFileSync(join(migrationsFolder, '0003_short_runs_index.sql'), 'utf8');
  const patterns = [...bigram.matchAll(/GLOB '([^']+)'/g)].map((m) => m[1]);
  t.same(
    patterns.map((p) => p.replaceAll(SPACELESS_GLOB_CLASS, 'C')),
    ['CC', 'C*', 'CC', 'C*', '*C*', '*C*'],
    'a pair, a first character and the row filter, for the idea and the spec: all of the same class',
  );
});
