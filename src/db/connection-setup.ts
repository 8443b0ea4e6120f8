import { createRequire } from 'node:module';

/**
 * What every connection to an embedded file must be set to. @libsql/client keeps a pool of
 * connections (a transaction holds one, concurrent calls open more), and a PRAGMA sent through
 * `execute()` reaches only the one connection that ran it: the others stayed at SQLite's
 * defaults. The busy timeout has its own client option (`timeout`), applied to every
 * connection; the rest has none, so it is applied here, on each connection's first statement.
 *
 * synchronous = NORMAL: in WAL mode a commit no longer waits for an fsync of the log (measured
 * here: 2000 single-row commits took ~6.5 s with FULL, ~0.3 s with NORMAL); a power cut can
 * lose the last commits but never corrupts the file. Only set on WAL databases, where that holds.
 */
const PER_CONNECTION_SQL = ['PRAGMA synchronous = NORMAL'];

interface LibsqlConnection {
  prepare(sql: string): { run(): unknown; get(): unknown };
  exec(sql: string): unknown;
}

let installed = false;

/**
 * Hooks the first statement of every libsql connection in this process (the class the client's
 * pool instantiates) to run PER_CONNECTION_SQL first. Idempotent.
 */
export function installConnectionSetup(): void {
  if (installed) return;
  installed = true;
  // The connection class the client itself loads: resolved from the client, not from here.
  const require = createRequire(createRequire(import.meta.url).resolve('@libsql/client'));
  const Database = require('libsql') as { prototype: LibsqlConnection };
  const configured = new WeakSet<LibsqlConnection>();
  const { prepare, exec } = Database.prototype;
  // Marked only once it worked: if another process's lock made it fail, the statement that
  // brought it here fails with that error, and the connection's next statement tries again.
  const setUp = (connection: LibsqlConnection) => {
    if (configured.has(connection)) return;
    const mode = prepare.call(connection, 'PRAGMA journal_mode').get() as { journal_mode?: string } | undefined;
    if (mode?.journal_mode === 'wal') for (const sql of PER_CONNECTION_SQL) prepare.call(connection, sql).run();
    configured.add(connection);
  };
  Database.prototype.prepare = function (this: LibsqlConnection, sql: string) {
    setUp(this);
    return prepare.call(this, sql);
  };
  Database.prototype.exec = function (this: LibsqlConnection, sql: string) {
    setUp(this);
    return exec.call(this, sql);
  };
}
