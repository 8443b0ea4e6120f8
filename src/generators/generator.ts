import type { FastifyBaseLogger } from 'fastify';
import type { TemplateName } from './templates.js';

export type GeneratorName = 'gemini' | 'command' | 'offline';

export interface ToolUse {
  name: string;
  id?: string;
  at: number;
}

export interface AttemptInput {
  idea: string;
  template: TemplateName;
  model?: string;
  attempt: number;
  signal: AbortSignal;
  log: FastifyBaseLogger;
  /** Text appended to the spec since the previous call. */
  onDelta(text: string): void;
  onToolUse(tool: ToolUse): void;
}

export interface AttemptOutput {
  text: string;
  /** Goes to the idea's metadata: tokens, CLI version, session id, … */
  metadata: Record<string, unknown>;
}

export interface Generator {
  readonly name: GeneratorName;
  /** Runs one attempt; throws GeneratorError (or CancelledError) when it fails. */
  run(input: AttemptInput): Promise<AttemptOutput>;
}
