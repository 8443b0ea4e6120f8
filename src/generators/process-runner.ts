import { spawn } from 'node:child_process';
import { GeneratorError } from './errors.js';

/**
 * Why the runner ended a process itself; undefined when the process exited on its own. 'finished':
 * its output said it was done, and it had killGraceMs to exit by itself after that.
 */
export type Termination = 'timeout' | 'inactivity' | 'cancelled' | 'output-limit' | 'finished';

export interface RunProcessOptions {
  command: string;
  args: string[];
  /** Written to stdin, then stdin is closed. Never passed through a shell or argv. */
  input: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  inactivityMs: number;
  killGraceMs: number;
  signal?: AbortSignal;
  /**
   * stdout as decoded UTF-8 text, chunk by chunk. Returning a termination ends the process with it;
   * 'finished' leaves it killGraceMs to exit by itself first.
   */
  onStdout(text: string): void | Termination;
  onSpawn?(pid: number): void;
}

export interface RunProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  termination?: Termination;
  stderrTail: string;
  stderrBytes: number;
  durationMs: number;
}

const STDERR_TAIL = 8192;

/**
 * After the generator exits, how long its pipes may still deliver what it wrote.
 * Output already in the pipe arrives within milliseconds; a pipe still open after
 * this is held by a descendant that left the process group (setsid, a detached
 * spawn), which the group kill cannot reach and which must not hold the job.
 */
export const PIPE_DRAIN_MS = 250;

/**
 * Runs one generator process in its own process group, streaming stdout, with a
 * wall-clock and an inactivity timeout. Ending it means SIGTERM to the whole group,
 * then SIGKILL after a grace period, so descendants die with it.
 */
export function runProcess(options: RunProcessOptions): Promise<RunProcessResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
        windowsHide: true,
      });
    } catch (err) {
      return reject(spawnError(options.command, err as NodeJS.ErrnoException));
    }

    let termination: Termination | undefined;
    let stderrTail = '';
    let stderrBytes = 0;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    let finishTimer: NodeJS.Timeout | undefined;
    let exited = false;

    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    };

    // Our ends of the pipes: destroying them ends the wait for 'close' whoever else still holds the other ends.
    const closePipes = () => {
      child.stdout.destroy();
      child.stderr.destroy();
    };

    const terminate = (reason: Termination) => {
      if (termination !== undefined) return;
      termination = reason;
      if (exited) return closePipes();
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => {
        signalGroup('SIGKILL');
        closePipes();
      }, options.killGraceMs);
      killTimer.unref();
    };

    const wallTimer = setTimeout(() => terminate('timeout'), options.timeoutMs);
    const idleTimer = setTimeout(() => terminate('inactivity'), options.inactivityMs);
    wallTimer.unref();
    idleTimer.unref();

    const onAbort = () => terminate('cancelled');
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    child.once('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    // The child may exit before reading its whole input; that shows up as EPIPE here and as its exit code below.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input, 'utf8');

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      idleTimer.refresh();
      if (termination !== undefined) return;
      const verdict = options.onStdout(text);
      if (verdict === 'finished') {
        finishTimer ??= setTimeout(() => terminate('finished'), options.killGraceMs);
        finishTimer.unref();
      } else if (verdict) terminate(verdict);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      idleTimer.refresh();
      stderrBytes += Buffer.byteLength(text);
      stderrTail = (stderrTail + text).slice(-STDERR_TAIL);
    });

    const cleanup = () => {
      clearTimeout(wallTimer);
      clearTimeout(idleTimer);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      clearTimeout(finishTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      if (child.pid === undefined) reject(spawnError(options.command, err));
    });
    child.once('exit', () => {
      exited = true;
      // It exited by itself: its exit code stands.
      clearTimeout(finishTimer);
      // Descendants left in the group would hold the pipes open and outlive the job.
      signalGroup('SIGKILL');
      if (termination !== undefined) return closePipes();
      drainTimer = setTimeout(closePipes, PIPE_DRAIN_MS);
      drainTimer.unref();
    });
    child.once('close', (exitCode, signal) => {
      cleanup();
      resolve({ exitCode, signal, termination, stderrTail, stderrBytes, durationMs: performance.now() - started });
    });
  });
}

function spawnError(command: string, err: NodeJS.ErrnoException): GeneratorError {
  if (err.code === 'ENOENT') {
    return new GeneratorError(
      'GENERATOR_NOT_FOUND',
      `Generator executable not found: ${command}. Install it or set GEMINI_CLI_PATH / GENERATOR_COMMAND.`,
      false,
    );
  }
  if (err.code === 'EACCES') {
    return new GeneratorError(
      'GENERATOR_NOT_EXECUTABLE',
      `Generator is not executable: ${command}. Check its permissions.`,
      false,
    );
  }
  return new GeneratorError('GENERATOR_SPAWN_FAILED', `Could not start ${command}: ${err.message}`, true);
}
