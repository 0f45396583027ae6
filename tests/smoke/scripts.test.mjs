// The two README commands' scripts, checked where it is cheap: a second set-up run installs
// nothing, and run.sh's start part (on the build these tests run from) brings up all three,
// prints the URL to open and stops them all on Ctrl-C (SIGINT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const source = process.env.SUITE_SOURCE_DIR;
const bin = process.env.SUITE_BIN_DIR;

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

async function portOpen(port) {
  try {
    await fetch(`http://127.0.0.1:${port}/healthz`);
    return true;
  } catch {
    return false;
  }
}

test('setup.sh: a second run installs nothing', () => {
  // The test command ran setup.sh before building, so this run is at least the second.
  const r = spawnSync('bash', [path.join(source, 'scripts/setup.sh')], {
    cwd: source,
    encoding: 'utf8',
    timeout: 60000,
  });
  const output = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, output);
  assert.match(output, /^setup: Debian packages: all present$/m, output);
  for (const dir of ['.', 'app/web']) {
    assert.match(output, new RegExp(`^setup: npm packages in ${dir.replace('.', '\\.')}: up to date$`, 'm'), output);
  }
  assert.doesNotMatch(output, /installing/, output);
});

test('run.sh --no-build: starts all three, prints the URL, and SIGINT stops them with exit 0', async () => {
  const state = mkdtempSync(path.join(tmpdir(), 'run-sh-'));
  const [app, agent, hub] = [await freePort(), await freePort(), await freePort()];
  const child = spawn('bash', [path.join(source, 'scripts/run.sh'), '--no-build', '--build-dir', bin, '--state-dir', state], {
    cwd: source,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? state,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '',
      UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '',
      APP_LISTEN: `127.0.0.1:${app}`,
      AGENT_LISTEN: `127.0.0.1:${agent}`,
      HUB_LISTEN: `127.0.0.1:${hub}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const deadline = Date.now() + 60000;
    while (!/^Open http:\/\/localhost:\d+\/$/m.test(output) && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const logs = () => ['app', 'agent', 'sse_hub'].map((n) => {
      try {
        return `--- ${n}.log\n${readFileSync(path.join(state, 'logs', `${n}.log`), 'utf8')}`;
      } catch {
        return '';
      }
    }).join('\n');
    assert.match(output, new RegExp(`^Open http://localhost:${app}/$`, 'm'), `${output}\n${logs()}`);
    // The printed URL serves the UI, and the app reaches the agent through the port run.sh gave it.
    const page = await fetch(`http://127.0.0.1:${app}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const sessions = await fetch(`http://127.0.0.1:${app}/api/sessions`);
    assert.equal(sessions.status, 200, await sessions.text());
    for (const port of [app, agent, hub]) assert.ok(await portOpen(port), `nothing on ${port}`);

    child.kill('SIGINT');
    const t0 = Date.now();
    const { code, signal } = await exited;
    assert.equal(signal, null, output);
    assert.equal(code, 0, `${output}\n${logs()}`);
    assert.ok(Date.now() - t0 < 15000, 'took longer than 15 s to stop');
    for (const port of [app, agent, hub]) assert.ok(!(await portOpen(port)), `something still on ${port}`);
    assert.doesNotMatch(output, /exited on its own/);
  } finally {
    child.kill('SIGKILL');
    rmSync(state, { recursive: true, force: true });
  }
});
