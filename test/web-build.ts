import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWeb } from '../scripts/build-web.js';

let built: Promise<string> | undefined;

/**
 * The web app as `npm run build` bundles it, built once per test process from the current source into a
 * folder of its own (so a stale dist/web never answers, and parallel test files never share one).
 */
export function webRoot(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idea2spec-web-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await buildWeb(dir);
    return dir;
  })();
  return built;
}
