import { GeneratorError } from '../generators/errors.js';

/**
 * What a Gemini CLI exit code means for the job. In JSON output modes an API
 * error exits with its HTTP status mod 256 (400 -> 144, 429 -> 173, 500 -> 244).
 */
export function geminiExitError(
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  detail: string,
): GeneratorError {
  const suffix = detail ? `: ${detail}` : '';
  if (exitCode === null) {
    return new GeneratorError(
      'GENERATOR_CRASHED',
      `The Gemini CLI was killed by ${signal ?? 'a signal'}${suffix}`,
      true,
    );
  }
  switch (exitCode) {
    case 41:
      return new GeneratorError(
        'GEMINI_AUTH',
        `The Gemini CLI is not authenticated. Set GEMINI_API_KEY, or sign in once with \`gemini\` as the service user (or under GEMINI_CLI_HOME)${suffix}`,
        false,
      );
    case 42:
      return new GeneratorError('GEMINI_BAD_INPUT', `The Gemini CLI rejected its input${suffix}`, false);
    case 52:
      return new GeneratorError(
        'GEMINI_CONFIG',
        `The Gemini CLI's settings are invalid; check settings.json under its HOME${suffix}`,
        false,
      );
    case 53:
      return new GeneratorError('GEMINI_TURN_LIMIT', `The Gemini CLI reached its turn limit${suffix}`, false);
    case 55:
      return new GeneratorError(
        'GEMINI_UNTRUSTED_FOLDER',
        `The Gemini CLI refused to run in an untrusted folder; this CLI may not support --skip-trust${suffix}`,
        false,
      );
  }
  // Errors without a numeric status exit 1; the API's JSON error in the message may still carry one (a 404 for a bad model).
  const http = httpStatusFromExit(exitCode) ?? (exitCode === 1 ? httpStatusFromMessage(detail) : undefined);
  if (http !== undefined) {
    if (http === 429)
      return new GeneratorError(
        'GEMINI_RATE_LIMITED',
        `The Gemini API answered 429 (quota or rate limit)${suffix}`,
        true,
      );
    if (http === 408) return new GeneratorError('GEMINI_API_TIMEOUT', `The Gemini API answered 408${suffix}`, true);
    if (http >= 500) return new GeneratorError('GEMINI_API_ERROR', `The Gemini API answered ${http}${suffix}`, true);
    if (http === 401 || http === 403)
      return new GeneratorError(
        'GEMINI_AUTH',
        `The Gemini API refused the credentials (${http}). Check GEMINI_API_KEY${suffix}`,
        false,
      );
    if (http === 404)
      return new GeneratorError(
        'GEMINI_MODEL_NOT_FOUND',
        `The Gemini API answered 404: check the model name (GEMINI_MODEL or the request's model)${suffix}`,
        false,
      );
    return new GeneratorError('GEMINI_API_REJECTED', `The Gemini API rejected the request (${http})${suffix}`, false);
  }
  return new GeneratorError('GENERATOR_CRASHED', `The Gemini CLI exited with code ${exitCode}${suffix}`, true);
}

function httpStatusFromMessage(detail: string): number | undefined {
  const match = /"code"\s*:\s*([45]\d\d)\b/.exec(detail);
  return match ? Number(match[1]) : undefined;
}

/** 144..255 are HTTP 400..511 mod 256; the CLI's own codes sit below that. */
function httpStatusFromExit(code: number): number | undefined {
  return code >= 144 && code <= 255 ? code + 256 : undefined;
}
