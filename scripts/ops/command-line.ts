import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConnectionError, createClient, type Idea2SpecClient } from '../../src/client/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses argv against `options` (which should declare `help`); --help prints `usage` and exits 0, a bad flag prints it and exits 2. */
export function parseCommandLine<const O extends Options>(usage: string, options: O) {
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: false });
    if ((values as { help?: boolean }).help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return values;
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${usage}`);
  }
}

/** A positive number from a flag, or a clear exit. */
export function positive(name: string, raw: unknown, { integer = true } = {}): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    fail(`--${name} must be a positive ${integer ? 'integer' : 'number'} (got ${String(raw)})`);
  return value;
}

export function fail(message: string, exitCode = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(exitCode);
}

/**
 * A client of the service at `url`, once it has answered at all: any HTTP answer
 * (even a 404 from a service without /api/health) proves it is there.
 */
export async function reachableClient(url: string, apiKey: string | undefined): Promise<Idea2SpecClient> {
  let client: Idea2SpecClient;
  try {
    client = createClient({ baseUrl: url, apiKey, retries: 1, timeoutMs: 5000 });
  } catch {
    return fail(`--url must be an absolute http(s) URL (got ${url})`);
  }
  try {
    await client.health();
  } catch (err) {
    if (err instanceof ConnectionError) {
      client.close();
      fail(
        `idea2spec is not reachable at ${url}: ${err.message}\nStart it with \`npm start\`, or point --url at a running service.`,
      );
    }
  }
  return client;
}
