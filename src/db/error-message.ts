import { DatabaseUnreachable } from './remote-fetch.js';

/**
 * A database error in the database's own words, short: a query wrapper's message
 * carries the SQL and every parameter (a whole spec), which must not reach health
 * reports or logs.
 */
export function databaseErrorMessage(err: unknown): string {
  let root = err;
  // An unreachable server's error already says why in a few words; below it is fetch's plumbing.
  while (root instanceof Error && !(root instanceof DatabaseUnreachable) && root.cause instanceof Error)
    root = root.cause;
  const text = root instanceof Error ? root.message : String(root);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
