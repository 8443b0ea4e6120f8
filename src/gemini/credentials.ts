import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';

/**
 * Whether the Gemini CLI has credentials it can use headless: an API key, Vertex
 * AI settings, or a cached Google sign-in under the HOME the CLI runs with.
 */
export function geminiCredentialsConfigured(config: Config, env: NodeJS.ProcessEnv): boolean {
  if (
    config.GEMINI_API_KEY ||
    env.GEMINI_API_KEY ||
    env.GOOGLE_API_KEY ||
    env.GOOGLE_GENAI_USE_VERTEXAI === 'true' ||
    env.GOOGLE_APPLICATION_CREDENTIALS
  )
    return true;
  const home = config.GEMINI_CLI_HOME ?? env.HOME;
  return home !== undefined && existsSync(join(home, '.gemini', 'oauth_creds.json'));
}
