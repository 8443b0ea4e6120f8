import { accessSync, constants, statSync } from 'node:fs';

/**
 * Watches that the database file the service opened is still the one at its path,
 * and that it can be written.
 * SQLite keeps writing to a file deleted or replaced under it, so everything
 * written after that is lost at the next start while every query still succeeds:
 * only the path can tell. Returns a check giving the problem, or undefined.
 */
export function watchDatabaseFile(path: string | undefined): () => string | undefined {
  if (path === undefined) return () => undefined;
  const opened = identity(path);
  if (opened === undefined) return () => undefined;
  return () => {
    const now = identity(path);
    if (now === undefined)
      return `the database file ${path} is gone; writes go to a deleted file and are lost at the next start`;
    if (now !== opened) return `the database file ${path} was replaced while open`;
    try {
      // Also true for root: an immutable file (chattr +i) refuses writes to everyone.
      accessSync(path, constants.W_OK);
    } catch (err) {
      return `the database file ${path} is not writable (${(err as NodeJS.ErrnoException).code})`;
    }
    return undefined;
  };
}

function identity(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}
