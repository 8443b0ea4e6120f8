/**
 * `npm run bench [-- name…]`: runs every bench/*.bench.ts (or the named ones) one
 * after another in child processes, so one suite's heap and timers do not colour
 * the next. Each suite prints its own figures, as ratios against a baseline it
 * measures in the same run.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const suites = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

let failed = 0;
for (const suite of suites) {
  process.stdout.write(`\n=== ${suite}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${dir}/${suite}`], {
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) failed++;
}
if (suites.length === 0) console.error(`no bench suite matches ${wanted.join(' ')}`);
process.exit(failed > 0 || suites.length === 0 ? 1 : 0);
