// Process-level checks that hold for all three executables, whatever their features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
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

function start(name, env) {
  const child = spawn(path.join(bin, name, name), [], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
    ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '',
  };
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
