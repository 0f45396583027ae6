// Process-level checks that hold for all three executables, whatever their features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bin = process.env.SUITE_BIN_DIR;
const executables = [
  { name: 'app', listen: 'APP_LISTEN' },
  { name: 'agent', listen: 'AGENT_LISTEN' },
  { name: 'sse_hub', listen: 'HUB_LISTEN' },
];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function sanitizerEnv() {
  return { ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '' };
}

function start(name, env, { cwd, bare = false } = {}) {
  const childEnv = bare ? env : { PATH: process.env.PATH, ...env };
  const child = spawn(path.join(bin, name, name), [], { env: childEnv, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

async function waitHealthy(port, proc) {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return r;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not healthy in time; output:\n${proc.output()}`);
}

function baseEnv(dir) {
  return {
    MERCURE_PUBLISHER_JWT_KEY: 'smoke-test-publisher-key-0123456789abcdef',
    MERCURE_SUBSCRIBER_JWT_KEY: 'smoke-test-subscriber-key-0123456789abcdef',
    AGENT_SQLITE_PATH: path.join(dir, 'agent.db'),
    AGENT_MODEL_PROVIDER: 'demo',
    ...sanitizerEnv(),
  };
}

// Whether the process's main thread blocks SIGTERM yet (bit 15 of SigBlk): from then on the
// executable's own shutdown handling owns the signal. Before it, the default action would kill
// it, which no program can prevent.
function blocksSigterm(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mask = /^SigBlk:\s*([0-9a-f]+)/m.exec(status);
    return mask !== null && (BigInt(`0x${mask[1]}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

for (const exe of executables) {
  test(`${exe.name}: serves /healthz and /metrics and exits 0 on SIGTERM`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), `smoke-${exe.name}-`));
    const port = await freePort();
    const proc = start(exe.name, { ...baseEnv(dir), [exe.listen]: `127.0.0.1:${port}` });
    try {
      const health = await waitHealthy(port, proc);
      assert.equal(health.status, 200);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type'), /^text\/plain/);
      assert.match(await metrics.text(), /^# (HELP|TYPE) \w+/m);
      const t0 = Date.now();
      proc.child.kill('SIGTERM');
      const { code, signal } = await proc.exited;
      assert.equal(signal, null, `killed by ${signal}; output:\n${proc.output()}`);
      assert.equal(code, 0, proc.output());
      assert.ok(Date.now() - t0 < 10000, 'took longer than 10 s to stop');
    } finally {
      proc.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${exe.name}: a bad listen address stops it at start with one line naming the setting`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), `smoke-${exe.name}-`));
    const proc = start(exe.name, { ...baseEnv(dir), [exe.listen]: 'no-port-here', LOG_FORMAT: 'text' });
    try {
      const { code } = await proc.exited;
      assert.equal(code, 2, proc.output());
      const lines = proc.output().trim().split('\n');
      assert.equal(lines.length, 1, proc.output());
      assert.match(lines[0], new RegExp(`${exe.listen}: expected HOST:PORT`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${exe.name}: an unknown LOG_LEVEL is refused naming LOG_LEVEL`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), `smoke-${exe.name}-`));
    const port = await freePort();
    const proc = start(exe.name, { ...baseEnv(dir), [exe.listen]: `127.0.0.1:${port}`, LOG_LEVEL: 'loud' });
    try {
      const { code } = await proc.exited;
      assert.equal(code, 2, proc.output());
      assert.match(proc.output(), /LOG_LEVEL: must be one of trace, debug, info, warn, error, got 'loud'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const exe of executables) {
  // A SIGTERM while the executable is still building its parts (ECS stops a task that is
  // starting): it must not be lost, and the process must not hang until SIGKILL.
  test(`${exe.name}: a SIGTERM during start-up, before it is healthy, still ends it with exit 0`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), `smoke-${exe.name}-`));
    const port = await freePort();
    const proc = start(exe.name, { ...baseEnv(dir), [exe.listen]: `127.0.0.1:${port}` });
    try {
      const spawned = Date.now();
      while (!blocksSigterm(proc.child.pid) && Date.now() - spawned < 10000) {
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(blocksSigterm(proc.child.pid), `never blocked SIGTERM; output:\n${proc.output()}`);
      proc.child.kill('SIGTERM');
      const t0 = Date.now();
      const { code, signal } = await Promise.race([
        proc.exited,
        new Promise((r) => setTimeout(() => r({ code: 'still running', signal: null }), 5000)),
      ]);
      assert.equal(signal, null, `killed by ${signal}; output:\n${proc.output()}`);
      assert.equal(code, 0, `after SIGTERM during start-up: ${code}; output:\n${proc.output()}`);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      proc.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// DESIGN §3 defaults with nothing set but the listen address (the defaults bind 8080 and 3701,
// which another process on this machine may hold).
for (const exe of executables.filter((e) => e.name !== 'agent')) {
  test(`${exe.name}: starts with an empty environment and stops on SIGTERM`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), `smoke-${exe.name}-`));
    const port = await freePort();
    const proc = start(exe.name, { [exe.listen]: `127.0.0.1:${port}`, ...sanitizerEnv() }, { cwd: dir, bare: true });
    try {
      const health = await waitHealthy(port, proc);
      assert.equal(health.status, 200);
      proc.child.kill('SIGTERM');
      const { code, signal } = await proc.exited;
      assert.equal(signal, null, proc.output());
      assert.equal(code, 0, proc.output());
    } finally {
      proc.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// A key has no default: with an empty environment the agent refuses to start, with the one-line
// configuration error naming the setting.
test('agent: with an empty environment it stops at start naming MERCURE_PUBLISHER_JWT_KEY', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'smoke-agent-'));
  const port = await freePort();
  const proc = start('agent', { AGENT_LISTEN: `127.0.0.1:${port}`, ...sanitizerEnv() }, { cwd: dir, bare: true });
  try {
    const { code } = await proc.exited;
    assert.equal(code, 2, proc.output());
    assert.equal(proc.output(), 'agent: configuration error: MERCURE_PUBLISHER_JWT_KEY: is required but not set\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
