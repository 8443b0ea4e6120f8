import type { Config } from '../config.js';
import { parseCommand } from '../config.js';
import { geminiCredentialsConfigured } from '../gemini/credentials.js';
import { createCommandGenerator } from './command.js';
import { createGeminiGenerator } from '../gemini/gemini-generator.js';
import type { Generator, GeneratorName } from './generator.js';
import { createOfflineGenerator } from './offline/generator.js';

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
