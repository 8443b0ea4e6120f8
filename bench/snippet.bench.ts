/**
 * Search snippets on hostile rows: a page of ideas that repeat the searched word, and specs at
 * the output cap that hold it every line, against a page of ordinary ideas that hold it once
 * (the baseline, measured in the same run; the cases take turns in rounds). Each is a word
 * search through app.inject, as a client sees it; the same page with FTS5's snippet() (how
 * snippets were cut until this bench was written) is timed in SQL beside it.
 *
 *   npx tsx bench/snippet.bench.ts     (or npm run bench -- snippet)
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { benchConfig, benchDir } from './service.js';

const ROUNDS = 3;
const RUNS = 5;

interface Case {
  name: string;
  limit: number;
  rows: Array<{ idea: string; spec: string }>;
}

const line = 'The service must offer an API for partners, and log every call it answers.\n';
const CASES: Case[] = [
  {
    name: 'baseline: 100 ideas holding "api" once',
    limit: 100,
    rows: Array.from({ length: 100 }, (_, i) => ({
      idea: `Idea ${i}: a booking app with a public API for partners`,
      spec: `## Overview\nBookings for partners. ${line}`,
    })),
  },
  {
    name: '100 ideas of "api" 1,250 times',
    limit: 100,
    rows: Array.from({ length: 100 }, () => ({ idea: 'api '.repeat(1250).trim(), spec: '' })),
  },
  {
    name: '20 specs of 1,000,000 chars, "api" each line',
    limit: 20,
    rows: Array.from({ length: 20 }, () => ({
      idea: 'A partner portal',
      spec: line.repeat(Math.ceil(1_000_000 / line.length)).slice(0, 1_000_000),
    })),
  },
];

async function store(app: FastifyInstance, rows: Case['rows']): Promise<[number, number]> {
  const ids: number[] = [];
  for (const { idea, spec } of rows) {
    const row = await app.ideas.insert({
      jobId: randomUUID(),
      userInput: idea,
      generatedSpec: spec,
      status: 'completed',
      template: 'standard',
      generator: 'offline',
      attempts: 1,
      processingTimeMs: 1000,
      outputLength: spec.length,
      metadata: {},
      createdAt: Date.now(),
      updatedAt: Date.now(),
      completedAt: Date.now(),
    });
    ids.push(row.id);
  }
  return [Math.min(...ids), Math.max(...ids)];
}

async function ms(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const times = CASES.map(() => ({ service: [] as number[], fts5: [] as number[] }));
  // One database per case, so that each search's page is the case's rows only.
  const apps = [];
  const dirs: string[] = [];
  for (const c of CASES.filter((_, n) => n < Number(process.env.BENCH_CASES ?? CASES.length))) {
    const dir = benchDir();
    dirs.push(dir);
    const app = await buildApp({ config: benchConfig(join(dir, 'bench.db')) });
    await app.ready();
    apps.push({ app, range: await store(app, c.rows) });
  }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [n, c] of CASES.entries()) {
        if (!apps[n]) continue;
        const { app, range } = apps[n];
        for (let r = 0; r < RUNS; r++) {
          times[n].service.push(
            await ms(async () => {
              const res = await app.inject({ url: `/api/history?search=api&limit=${c.limit}` });
              if (res.statusCode !== 200 || res.json().data.length !== c.limit) throw new Error(res.body);
            }),
          );
        }
        // Once a round: at the output cap it takes seconds.
        times[n].fts5.push(
          await ms(() =>
            app.dbClient.execute({
              sql: `SELECT snippet(ideas_fts, 0, '<', '>', '…', 24), snippet(ideas_fts, 1, '<', '>', '…', 24)
                    FROM ideas_fts WHERE ideas_fts MATCH 'api' AND rowid BETWEEN ? AND ?`,
              args: range,
            }),
          ),
        );
      }
    }
  } finally {
    for (const { app } of apps) await app.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  const base = median(times[0].service);
  console.log(`word search "api", median of ${ROUNDS * RUNS} per case (FTS5 snippet(): of ${ROUNDS}), milliseconds\n`);
  console.log(`${'case'.padEnd(46)} ${'search'.padStart(8)} ${'÷ base'.padStart(8)} ${'FTS5 snippet()'.padStart(15)}`);
  for (const [n, c] of CASES.entries()) {
    if (!apps[n]) continue;
    const service = median(times[n].service);
    console.log(
      `${c.name.padEnd(46)} ${service.toFixed(1).padStart(8)} ${`${(service / base).toFixed(2)}×`.padStart(8)} ${median(times[n].fts5).toFixed(1).padStart(15)}`,
    );
  }
  console.log(
    '\n"search" is the whole request (ranking, the page, its snippets); "FTS5 snippet()" only the snippets of the same rows as SQLite cuts them.',
  );
}

await main();
