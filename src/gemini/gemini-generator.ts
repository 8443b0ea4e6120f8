import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import { allowListedEnv, lastWords, LineSplitter, runCliAttempt } from '../generators/cli-attempt.js';
import { GeneratorError } from '../generators/errors.js';
import { geminiExitError } from './exit-codes.js';
import type { AttemptInput, AttemptOutput, Generator } from '../generators/generator.js';
import { parseStreamLine, type StreamEvent } from './stream-json.js';
import { buildPrompt } from '../generators/templates.js';

export interface CliCommand {
  command: string;
  /** Arguments that come before the service's own (e.g. the script for `node`). */
  prefix: string[];
}

/** The project's pinned @google/gemini-cli, run with this Node, or GEMINI_CLI_PATH. */
export function geminiCommand(config: Pick<Config, 'GEMINI_CLI_PATH'>): CliCommand {
  if (config.GEMINI_CLI_PATH) return { command: config.GEMINI_CLI_PATH, prefix: [] };
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('@google/gemini-cli/package.json');
  const bin = (require(pkgPath) as { bin: Record<string, string> }).bin.gemini;
  return { command: process.execPath, prefix: [join(dirname(pkgPath), bin)] };
}

export function createGeminiGenerator(config: Config, sourceEnv: NodeJS.ProcessEnv = process.env): Generator {
  const cli = geminiCommand(config);
  const baseEnv = allowListedEnv(sourceEnv, config.GEMINI_CLI_HOME ?? sourceEnv.HOME);
  if (config.GEMINI_API_KEY) baseEnv.GEMINI_API_KEY = config.GEMINI_API_KEY;
  // One process instead of a launcher that relaunches itself and ignores SIGTERM: faster, and signals reach the worker.
  baseEnv.GEMINI_CLI_NO_RELAUNCH ??= 'true';

  return {
    name: 'gemini',
    async run(input: AttemptInput): Promise<AttemptOutput> {
      const model = input.model ?? config.GEMINI_MODEL;
      // --skip-trust: the attempt runs in a fresh empty folder the CLI has never seen. No --yolo / approval flags: tools are never auto-approved.
      const args = [...cli.prefix, '--output-format', 'stream-json', '--skip-trust', ...(model ? ['-m', model] : [])];
      const lines = new LineSplitter();
      const state = {
        text: '',
        noise: 0,
        result: undefined as Extract<StreamEvent, { type: 'result' }> | undefined,
        /** The last error event's message: the CLI may send any number of them. */
        lastError: undefined as string | undefined,
        init: undefined as Extract<StreamEvent, { type: 'init' }> | undefined,
      };

      const handle = (line: string) => {
        const event = parseStreamLine(line);
        if (!event) {
          if (line.trim()) state.noise++;
          return;
        }
        switch (event.type) {
          case 'init':
            state.init = event;
            break;
          case 'message':
            if (event.role === 'assistant' && event.content) {
              state.text += event.content;
              input.onDelta(event.content);
            }
            break;
          case 'tool_use':
            input.onToolUse({ name: event.tool_name ?? 'unknown', id: event.tool_id, at: Date.now() });
            break;
          case 'error':
            if (event.message) state.lastError = event.message;
            break;
          case 'result':
            state.result = event;
            break;
        }
      };

      const result = await runCliAttempt({
        command: cli.command,
        args,
        input: buildPrompt(input.idea, input.template),
        env: baseEnv,
        timeoutMs: config.GEMINI_TIMEOUT_MS,
        inactivityMs: config.GEMINI_INACTIVITY_TIMEOUT_MS,
        killGraceMs: config.GEMINI_KILL_GRACE_MS,
        signal: input.signal,
        onStdout(chunk) {
          for (const line of lines.push(chunk)) handle(line);
          if (state.text.length > config.GENERATOR_OUTPUT_LIMIT || lines.pendingLength > config.GENERATOR_OUTPUT_LIMIT)
            return 'output-limit';
          // A successful result event is the CLI's last word: one that lingers after it (an open handle, a flush
          // that hangs) is ended after GEMINI_KILL_GRACE_MS instead of stalling, and its answer counts. After a
          // failed one its exit code tells what failed (an API rejection is not retried): it is waited for.
          if (state.result?.status === 'success') return 'finished';
        },
      });
      for (const line of lines.flush()) handle(line);

      if (state.noise > 0)
        input.log.warn({ lines: state.noise }, 'gemini cli wrote lines that are not stream-json events');
      const detail = lastWords(state.result?.error?.message ?? state.lastError ?? result.stderrTail);
      const suffix = detail ? `: ${detail}` : '';
      // The result event decides; the exit code only explains. The CLI exits 0 on an empty answer and on SIGTERM,
      // and a CLI ended after its result ('finished') has the exit code of our signal, not of its run.
      if (result.exitCode !== 0 && result.termination !== 'finished')
        throw geminiExitError(result.exitCode, result.signal, detail);
      if (!state.result)
        throw new GeneratorError(
          'GEMINI_INCOMPLETE',
          `The Gemini CLI stopped before reporting a result${suffix}`,
          true,
        );
      if (state.result.status !== 'success')
        throw new GeneratorError(
          'GEMINI_RESULT_ERROR',
          `The Gemini CLI reported ${state.result.status ?? 'a result without a status'}${suffix}`,
          true,
        );
      if (state.text.trim() === '')
        throw new GeneratorError(
          'GENERATOR_EMPTY_OUTPUT',
          `The Gemini CLI finished without writing a specification${suffix}`,
          true,
        );
      return {
        text: state.text,
        metadata: {
          model: state.init?.model ?? model ?? null,
          sessionId: state.init?.session_id ?? null,
          stats: state.result?.stats ?? null,
          ignoredLines: state.noise,
        },
      };
    },
  };
}
