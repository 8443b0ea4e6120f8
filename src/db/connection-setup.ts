import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

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

/**
 * Errors after which SQLite leaves the statement active, to be stepped again: a statement that
 * waited out the busy timeout behind another process's write lock. libsql never resets it (its
 * bindings have no reset), so the connection keeps an implicit transaction open for as long as
 * the statement object lives: every later write through that connection reports success but is
 * never committed, and holds the write lock against every other connection and process (found
 * with a lock held past the timeout by another process; other errors, such as a full disk, a
 * read-only database or a constraint, end the statement and leave the connection clean).
 */
const STRANDING_ERROR = /^SQLITE_(BUSY|LOCKED)/;

interface LibsqlStatement {
  run(...args: unknown[]): unknown;
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown;
}

interface LibsqlConnection {
  open: boolean;
  close(): void;
  prepare(sql: string): LibsqlStatement;
  exec(sql: string): unknown;
}

/** Whether a database error is another connection's lock: SQLITE_BUSY or SQLITE_LOCKED, with any extended code. */
export function isLockError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STRANDING_ERROR.test(code);
}

let installing: Promise<void> | undefined;

/** The connection each statement was prepared on. */
const connectionOf = new WeakMap<LibsqlStatement, LibsqlConnection>();

/** Connections a statement left stranded: closed when the client's pool gets them back. */
const stranded = new WeakSet<LibsqlConnection>();

/**
 * Marks a connection whose statement failed with a stranding error. It is closed when the client
 * gives it back to its pool (see installPoolRelease), which ends its open transaction (rolled back;
 * the caller got the error), and the pool opens a new one when needed. Not at once: the client may
 * still use it before it lets go (its migrate() reads `inTransaction` in a `finally`, and reading
 * that of a closed connection aborts the process).
 */
function markIfStranded(connection: LibsqlConnection | undefined, err: unknown): void {
  if (connection?.open === true && isLockError(err)) stranded.add(connection);
}

interface LibsqlPool {
  prototype: { release(this: unknown, connection: LibsqlConnection): void };
}

/** The client's pool (both of its builds: ESM for `import`, CommonJS for `require`) closes stranded connections it gets back. */
async function installPoolRelease(clientEntry: string): Promise<void> {
  const esm = (await import(pathToFileURL(join(dirname(clientEntry), '../lib-esm/sqlite3.js')).href)) as {
    ConnectionPool: LibsqlPool;
  };
  const cjs = createRequire(clientEntry)('./sqlite3.js') as { ConnectionPool: LibsqlPool };
  for (const { prototype } of new Set([esm.ConnectionPool, cjs.ConnectionPool])) {
    const { release } = prototype;
    prototype.release = function (connection) {
      if (stranded.has(connection) && connection.open) {
        try {
          connection.close();
        } catch {
          // already unusable: the pool drops a connection that is not open
        }
      }
      release.call(this, connection);
    };
  }
}

/** Wraps a statement (or connection) method so that a stranding error marks the connection to be closed. */
function guarded<T extends object>(
  method: (this: T, ...args: unknown[]) => unknown,
  connectionFor: (self: T) => LibsqlConnection | undefined,
) {
  return function (this: T, ...args: unknown[]) {
    try {
      return method.apply(this, args);
    } catch (err) {
      markIfStranded(connectionFor(this), err);
      throw err;
    }
  };
}

/**
 * Hooks every libsql connection in this process (the class the client's pool instantiates): its
 * first statement runs PER_CONNECTION_SQL first, and a statement failing with a stranding error
 * has it closed once the client lets go of it (see STRANDING_ERROR). Idempotent.
 */
export function installConnectionSetup(): Promise<void> {
  installing ??= install();
  return installing;
}

async function install(): Promise<void> {
  // The classes the client itself loads: resolved from the client, not from here.
  const clientEntry = createRequire(import.meta.url).resolve('@libsql/client');
  await installPoolRelease(clientEntry);
  const require = createRequire(clientEntry);
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
  let statementClass: LibsqlStatement | undefined;
  const guardStatements = (statement: LibsqlStatement) => {
    if (statementClass !== undefined) return;
    statementClass = Object.getPrototypeOf(statement) as LibsqlStatement;
    for (const name of ['run', 'get', 'all'] as const) {
      statementClass[name] = guarded<LibsqlStatement>(statementClass[name], (self) => connectionOf.get(self));
    }
  };
  Database.prototype.prepare = guarded(
    function (this: LibsqlConnection, sql: unknown) {
      setUp(this);
      const statement = prepare.call(this, sql as string);
      guardStatements(statement);
      connectionOf.set(statement, this);
      return statement;
    },
    (self) => self,
  ) as LibsqlConnection['prepare'];
  Database.prototype.exec = guarded(
    function (this: LibsqlConnection, sql: unknown) {
      setUp(this);
      return exec.call(this, sql as string);
    },
    (self) => self,
  ) as LibsqlConnection['exec'];
}
