import type { Config } from '../config.js';
import { allowListedEnv, lastWords, runCliAttempt } from './cli-attempt.js';
import { GeneratorError } from './errors.js';
import type { AttemptInput, AttemptOutput, Generator } from './generator.js';
import { buildPrompt } from './templates.js';

/** Any CLI that reads a prompt on stdin and writes the answer, as plain text, on stdout. */
export function createCommandGenerator(
  config: Config,
  argv: string[],
  sourceEnv: NodeJS.ProcessEnv = process.env,
): Generator {
  const [command, ...args] = argv;
  const env = allowListedEnv(sourceEnv, sourceEnv.HOME);
  return {
    name: 'command',
    async run(input: AttemptInput): Promise<AttemptOutput> {
      let text = '';
      const result = await runCliAttempt({
        command,
        args,
        input: buildPrompt(input.idea, input.template),
        env,
        timeoutMs: config.GEMINI_TIMEOUT_MS,
        inactivityMs: config.GEMINI_INACTIVITY_TIMEOUT_MS,
        killGraceMs: config.GEMINI_KILL_GRACE_MS,
        signal: input.signal,
        onStdout(chunk) {
          text += chunk;
          input.onDelta(chunk);
          if (text.length > config.GENERATOR_OUTPUT_LIMIT) return 'output-limit';
        },
      });
      const detail = lastWords(result.stderrTail);
      if (result.exitCode === null)
        throw new GeneratorError(
          'GENERATOR_CRASHED',
          `${command} was killed by ${result.signal}${detail ? `: ${detail}` : ''}`,
          true,
        );
      if (result.exitCode === 126 || result.exitCode === 127) {
        throw new GeneratorError(
          'GENERATOR_NOT_EXECUTABLE',
          `${command} exited ${result.exitCode} (command not runnable)${detail ? `: ${detail}` : ''}`,
          false,
        );
      }
      if (result.exitCode !== 0)
        throw new GeneratorError(
          'GENERATOR_CRASHED',
          `${command} exited with code ${result.exitCode}${detail ? `: ${detail}` : ''}`,
          true,
        );
      if (text.trim() === '')
        throw new GeneratorError('GENERATOR_EMPTY_OUTPUT', `${command} finished without writing a specification`, true);
      return { text, metadata: { command } };
    },
  };
}
