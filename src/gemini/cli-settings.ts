import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import { projectRoot } from '../paths.js';

const OPERATOR_SYSTEM_SETTINGS = '/etc/gemini-cli/settings.json';

/**
 * The Gemini CLI retries failed API calls itself (10 tries, up to ~4 minutes) and
 * re-sends deltas when a stream breaks. The service owns retries (backoff, circuit
 * breaker, job events), so the CLI gets a system settings file with one try per
 * call. A system settings file replaces /etc/gemini-cli/settings.json, so the
 * operator's system settings are carried over into it.
 *
 * The CLI ignores a settings file below a group- or world-writable folder, so the
 * file lives next to the database (or in ./data), never in /tmp.
 */
export function writeServiceSystemSettings(config: Pick<Config, 'TURSO_DATABASE_URL'>): string | undefined {
  const dir = settingsDir(config.TURSO_DATABASE_URL);
  let base: Record<string, unknown> = {};
  if (existsSync(OPERATOR_SYSTEM_SETTINGS)) {
    try {
      base = JSON.parse(readFileSync(OPERATOR_SYSTEM_SETTINGS, 'utf8')) as Record<string, unknown>;
    } catch {
      // An unreadable operator file is the CLI's to report; do not replace it with ours.
      return undefined;
    }
  }
  const general = typeof base.general === 'object' && base.general !== null ? base.general : {};
  const settings = { ...base, general: { ...general, maxAttempts: 1 } };
  const path = join(dir, 'gemini-system-settings.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  return path;
}

function settingsDir(databaseUrl: string): string {
  if (databaseUrl.startsWith('file:')) {
    const path = databaseUrl.startsWith('file://') ? fileURLToPath(databaseUrl) : databaseUrl.slice('file:'.length).split('?')[0];
    return dirname(isAbsolute(path) ? path : resolve(path));
  }
  return join(projectRoot, 'data');
}
