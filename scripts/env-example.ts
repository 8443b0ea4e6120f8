/**
 * Writes .env.example from the configuration schema, so the file cannot drift
 * from what the service reads: `npm run env:example`. A test checks it is current.
 */
import { writeFileSync } from 'node:fs';
import { ConfigSchema } from '../src/config.js';

export function renderEnvExample(): string {
  const lines = [
    '# idea2spec configuration. Every variable is optional; the value shown is the default.',
    '# Generated from src/config.ts by `npm run env:example`.',
    '',
  ];
  for (const [name, schema] of Object.entries(ConfigSchema.properties) as Array<
    [string, { default?: unknown; description?: string; anyOf?: Array<{ const: unknown }> }]
  >) {
    const choices = schema.anyOf ? ` (${schema.anyOf.map((c) => c.const).join(' | ')})` : '';
    if (schema.description || choices) lines.push(`# ${schema.description ?? name}${choices}`);
    lines.push(schema.default === undefined ? `# ${name}=` : `${name}=${schema.default}`);
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
}
