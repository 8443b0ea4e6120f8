import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { parseCommand } from '../config.js';
import { createCommandGenerator } from './command-generator.js';
import { createGeminiGenerator } from './gemini-generator.js';
import type { Generator, GeneratorName } from './generator.js';
import { createOfflineGenerator } from './offline-generator.js';

/**
 * Whether the Gemini CLI has credentials it can use headless: an API key, Vertex
 * AI settings, or a cached Google sign-in under the HOME the CLI runs with.
 */
export function geminiCredentialsConfigured(config: Config, env: NodeJS.ProcessEnv): boolean {
  if (config.GEMINI_API_KEY || env.GEMINI_API_KEY || env.GOOGLE_API_KEY || env.GOOGLE_GENAI_USE_VERTEXAI === 'true' || env.GOOGLE_APPLICATION_CREDENTIALS) return true;
  const home = config.GEMINI_CLI_HOME ?? env.HOME;
  return home !== undefined && existsSync(join(home, '.gemini', 'oauth_creds.json'));
}

export function resolveGeneratorName(config: Config, env: NodeJS.ProcessEnv): GeneratorName {
  if (config.GENERATOR !== 'auto') return config.GENERATOR;
  return geminiCredentialsConfigured(config, env) ? 'gemini' : 'offline';
}

export function createGenerator(config: Config, env: NodeJS.ProcessEnv = process.env): Generator {
  switch (resolveGeneratorName(config, env)) {
    case 'gemini':
      return createGeminiGenerator(config, env);
    case 'command':
      // loadConfig has already checked that GENERATOR_COMMAND parses.
      return createCommandGenerator(config, parseCommand(config.GENERATOR_COMMAND!)!, env);
    case 'offline':
      return createOfflineGenerator();
  }
}
