import { createClient } from '@libsql/client';
import { createHistoryRepository } from './src/db/history-repository.js';
const url = process.argv[2];
const client = createClient({ url });
const history = createHistoryRepository(client, { rankWindow: 1000 });
const queries = process.argv.slice(3);
for (const q of queries) {
  const times: number[] = [];
  let r;
  for (let i = 0; i < 7; i++) { const t0 = performance.now(); r = await history.search({ text: q, limit: 20, offset: 0 }); times.push(performance.now() - t0); }
  times.sort((a, b) => a - b);
  console.log(q.padEnd(16), 'median', times[3].toFixed(1), 'max', times[6].toFixed(1), 'total', r!.total, r!.capped ? 'capped' : '', r!.ranked ? 'ranked' : 'recency');
}
