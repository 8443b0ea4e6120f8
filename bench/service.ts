/**
 * What the benchmarks share: the service's configuration as production runs it, with the
 * rate limits out of the way so that only the code under test is measured.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../src/config.js';

/** A fresh temporary folder for one benchmark's database and files. */
export const benchDir = (): string => mkdtempSync(join(tmpdir(), 'idea2spec-bench-'));

/** Production mode, silent logs, the database at `dbFile`, rate limits no benchmark reaches; then `overrides`. */
export function benchConfig(dbFile: string, overrides: Partial<Config> = {}): Config {
  return loadConfig(
    {},
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      TURSO_DATABASE_URL: `file:${dbFile}`,
      RATE_LIMIT_MAX: 100_000_000,
      GENERATE_RATE_LIMIT_MAX: 100_000_000,
      ...overrides,
    },
  );
}
