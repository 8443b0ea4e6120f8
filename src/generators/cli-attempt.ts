import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, GeneratorError } from './errors.js';
import { storableText } from './storable-text.js';
import { runProcess, type RunProcessResult, type Termination } from './process-runner.js';

export interface CliAttemptOptions {
  command: string;
  args: string[];
  input: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  inactivityMs: number;
  killGraceMs: number;
  signal: AbortSignal;
  onStdout(text: string): void | Termination;
}

/**
 * One run of a CLI generator in an empty, private working directory (with its own
 * TMPDIR) that is removed afterwards. Ends started by the runner become errors here,
 * except 'finished' (the output said it was done); the process's own exit is left to
 * the caller, who knows what its codes mean.
 */
export async function runCliAttempt(options: CliAttemptOptions): Promise<RunProcessResult> {
  const root = await mkdtemp(join(tmpdir(), 'idea2spec-'));
  try {
    const cwd = join(root, 'work');
    const tmp = join(root, 'tmp');
    await Promise.all([mkdir(cwd), mkdir(tmp)]);
    const result = await runProcess({ ...options, cwd, env: { ...options.env, TMPDIR: tmp } });
    if (result.termination && result.termination !== 'finished') throw terminationError(result.termination, options);
    return result;
  } finally {
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  }
}

function terminationError(termination: Exclude<Termination, 'finished'>, options: CliAttemptOptions): GeneratorError {
  switch (termination) {
    case 'cancelled':
      return new CancelledError();
    case 'timeout':
      return new GeneratorError(
        'GENERATOR_TIMEOUT',
        `The generator did not finish within ${options.timeoutMs} ms (GEMINI_TIMEOUT_MS).`,
        true,
      );
    case 'inactivity':
      return new GeneratorError(
        'GENERATOR_STALLED',
        `The generator wrote nothing for ${options.inactivityMs} ms (GEMINI_INACTIVITY_TIMEOUT_MS).`,
        true,
      );
    case 'output-limit':
      return new GeneratorError(
        'OUTPUT_TOO_LARGE',
        'The generator wrote more than GENERATOR_OUTPUT_LIMIT characters; the attempt was stopped.',
        false,
      );
  }
}

/** The environment a generator sees: an allow-list, never the service's secrets. */
export function allowListedEnv(source: NodeJS.ProcessEnv, home: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (ENV_EXACT.has(key) || ENV_PREFIXES.some((p) => key.startsWith(p)) || /^(https?|no|all)_proxy$/i.test(key))
      env[key] = value;
  }
  if (home !== undefined) env.HOME = home;
  return env;
}

const ENV_EXACT = new Set([
  'PATH',
  'HOME',
  'LANG',
  'LANGUAGE',
  'TZ',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
]);
const ENV_PREFIXES = ['LC_', 'GEMINI_', 'GOOGLE_'];

/**
 * Splits a stream into complete lines, keeping the unfinished tail for the next chunk. Only the new
 * chunk is searched for a line break, and the tail is kept in pieces: a line that arrives in many
 * chunks costs its length once, not once per chunk (a 20,000,000-character line took 2.7 s of
 * splitting the whole tail again on every 64 KiB read).
 */
export class LineSplitter {
  private pending: string[] = [];
  private pendingChars = 0;

  push(text: string): string[] {
    const last = text.lastIndexOf('\n');
    if (last === -1) {
      if (text.length > 0) this.pending.push(text);
      this.pendingChars += text.length;
      return [];
    }
    const complete = this.pending.join('') + text.slice(0, last);
    const rest = text.slice(last + 1);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingChars = rest.length;
    return complete.split('\n');
  }

  get pendingLength(): number {
    return this.pendingChars;
  }

  flush(): string[] {
    const rest = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    return rest.length > 0 ? [rest] : [];
  }
}

/** The last line or two of a diagnostic, short enough for an error message, and storable as it is. */
export function lastWords(text: string): string {
  const lines = text
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const words = lines.slice(-2).join(' | ');
  // Cut between characters, not between the two halves of a surrogate pair.
  const end = words.length > 500 && /[\uD800-\uDBFF]/.test(words[499]) ? 499 : 500;
  return storableText(words.slice(0, end));
}
