// One long-running process of the stack (an executable, the store, the fake model, the edge):
// started with an explicit environment, its output appended to a log file, and stoppable with a
// chosen signal while the caller measures how long it took and how it ended.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';

export class SupervisedProcess {
  // argv: the full command (already wrapped for the namespace when it must run inside one).
  constructor({ name, argv, env, logPath, cwd }) {
    this.name = name;
    this.argv = argv;
    this.env = env;
    this.logPath = logPath;
    this.cwd = cwd;
    this.child_ = null;
    this.exit_ = null;
    this.starts = 0;
  }

  get pid() {
    return this.child_ ? this.child_.pid : undefined;
  }

  get running() {
    return this.child_ !== null && this.exit_ === null;
  }

  start() {
    if (this.running) throw new Error(`${this.name} is already running`);
    const logFd = openSync(this.logPath, 'a');
    this.starts += 1;
    const child = spawn(this.argv[0], this.argv.slice(1), {
      env: this.env,
      cwd: this.cwd,
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    this.child_ = child;
    this.exit_ = null;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit_ = { code, signal, at: Date.now() };
        resolve(this.exit_);
      });
      child.on('error', (err) => {
        this.exit_ = { code: null, signal: null, error: err.message, at: Date.now() };
        resolve(this.exit_);
      });
    });
    return this;
  }

  signal(signal) {
    if (!this.running) return false;
    try {
      this.child_.kill(signal);
      return true;
    } catch {
      return false;
    }
  }

  // Sends `signal` and waits up to `graceMs` for the exit; past that kills it. Resolves with
  // {code, signal, elapsedMs, killed}: killed is true when the grace ran out.
  async stop({ signal = 'SIGTERM', graceMs = 10_000 } = {}) {
    if (!this.child_) return { code: null, signal: null, elapsedMs: 0, killed: false };
    if (!this.running) return { ...this.exit_, elapsedMs: 0, killed: false };
    const sentAt = Date.now();
    this.signal(signal);
    let timer;
    const outcome = await Promise.race([
      this.exited.then((exit) => ({ ...exit, killed: false })),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome) return { ...outcome, elapsedMs: outcome.at - sentAt };
    this.signal('SIGKILL');
    const exit = await this.exited;
    return { ...exit, elapsedMs: exit.at - sentAt, killed: true };
  }

  // Synchronous last resort for exit hooks.
  killNow() {
    if (this.running) this.signal('SIGKILL');
  }

  // The last `bytes` of the log, for failure messages.
  logTail(bytes = 4000) {
    try {
      const size = statSync(this.logPath).size;
      const text = readFileSync(this.logPath, 'utf8');
      return size > bytes ? text.slice(-bytes) : text;
    } catch {
      return '';
    }
  }

  logText() {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }
}
