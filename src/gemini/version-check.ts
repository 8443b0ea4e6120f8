import type { Config } from '../config.js';
import { allowListedEnv, lastWords, runCliAttempt } from '../generators/cli-attempt.js';
import { GeneratorError } from '../generators/errors.js';
import { geminiCommand } from './gemini-generator.js';

/** `--version` of the pinned CLI takes ~1.5 s of CPU here; a check that takes ten times that is a failure. */
export const VERSION_TIMEOUT_MS = 15_000;
const MAX_OUTPUT = 4096;
const VERSION = /\d+\.\d+\.\d+[0-9A-Za-z.+-]*/;

export interface VersionCheck {
  version: string;
  latencyMs: number;
}

/**
 * Runs the Gemini CLI the generator would run, with `--version`, under the same
 * allow-listed environment and in an empty private folder. Throws GeneratorError
 * (GENERATOR_NOT_FOUND, GENERATOR_TIMEOUT, GEMINI_VERSION_FAILED, CANCELLED).
 */
export async function checkGeminiVersion(
  config: Pick<Config, 'GEMINI_CLI_PATH' | 'GEMINI_CLI_HOME' | 'GEMINI_KILL_GRACE_MS'>,
  sourceEnv: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<VersionCheck> {
  const cli = geminiCommand(config);
  const started = performance.now();
  let stdout = '';
  const result = await runCliAttempt({
    command: cli.command,
    args: [...cli.prefix, '--version'],
    input: '',
    env: allowListedEnv(sourceEnv, config.GEMINI_CLI_HOME ?? sourceEnv.HOME),
    timeoutMs: VERSION_TIMEOUT_MS,
    inactivityMs: VERSION_TIMEOUT_MS,
    killGraceMs: config.GEMINI_KILL_GRACE_MS,
    signal,
    onStdout(text) {
      stdout += text;
      if (stdout.length > MAX_OUTPUT) return 'output-limit';
    },
  });
  const latencyMs = Math.round(performance.now() - started);
  const version = VERSION.exec(stdout)?.[0];
  if (result.exitCode !== 0 || version === undefined) {
    const how =
      result.exitCode === 0
        ? 'printed no version'
        : result.exitCode === null
          ? `was killed by ${result.signal}`
          : `exited with code ${result.exitCode}`;
    const detail = lastWords(result.stderrTail || stdout);
    throw new GeneratorError('GEMINI_VERSION_FAILED', `gemini --version ${how}${detail ? `: ${detail}` : ''}`, true, {
      latencyMs,
    });
  }
  return { version, latencyMs };
}
