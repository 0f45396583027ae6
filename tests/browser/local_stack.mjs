// The three real executables on free loopback ports as a local run has them: the hub, the agent
// with the offline demo model and SQLite, and the app routing /.well-known/mercure to the hub,
// plus headless Chromium. Everything started here is killed by stop(), and on exit.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const BIN = process.env.SUITE_BIN_DIR;
if (!BIN) throw new Error('SUITE_BIN_DIR is not set (run through ctest)');
export const ARTIFACTS = join(BIN, 'test-artifacts', 'browser');

const children = new Set();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Process {
  constructor(name, env, logDir) {
    this.name = name;
    this.env = env;
    this.logDir = logDir;
    this.output = '';
  }

  start() {
    this.output = '';
    this.child = spawn(join(BIN, this.name, this.name), [], {
      env: { PATH: process.env.PATH, LOG_FORMAT: 'text', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(this.child);
    const keep = (d) => {
      this.output += d;
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  async waitHealthy(port) {
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited:\n${this.output}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.status === 200) return;
      } catch {
        // not up yet
      }
      await sleep(50);
    }
    throw new Error(`${this.name} did not become healthy:\n${this.output}`);
  }

  async stop(signal = 'SIGTERM') {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 8000);
    await this.exited;
    clearTimeout(timer);
    children.delete(this.child);
    writeFileSync(join(this.logDir, `${this.name}.log`), this.output, { flag: 'a' });
  }
}

export class LocalStack {
  async start({ demoDelay = '40ms' } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'browser-stack-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    const publisherKey = randomBytes(24).toString('hex');
    const subscriberKey = randomBytes(24).toString('hex');
    [this.hubPort, this.agentPort, this.appPort] = [await freePort(), await freePort(), await freePort()];
    this.hub = new Process('sse_hub', {
      HUB_LISTEN: `127.0.0.1:${this.hubPort}`,
      MERCURE_PUBLISHER_JWT_KEY: publisherKey,
      MERCURE_SUBSCRIBER_JWT_KEY: subscriberKey,
      HUB_HEARTBEAT: '5s',
    }, ARTIFACTS);
    this.agent = new Process('agent', {
      AGENT_LISTEN: `127.0.0.1:${this.agentPort}`,
      AGENT_MODEL_PROVIDER: 'demo',
      AGENT_DEMO_DELAY: demoDelay,
      AGENT_STORE: 'sqlite',
      AGENT_SQLITE_PATH: join(this.dir, 'agent.db'),
      AGENT_HUB_URL: `http://127.0.0.1:${this.hubPort}/.well-known/mercure`,
      AGENT_PUBLISH_MAX_BACKOFF: '500ms',
      MERCURE_PUBLISHER_JWT_KEY: publisherKey,
    }, ARTIFACTS);
    this.app = new Process('app', {
      APP_LISTEN: `127.0.0.1:${this.appPort}`,
      APP_AGENT_URL: `http://127.0.0.1:${this.agentPort}`,
      APP_HUB_UPSTREAM: `http://127.0.0.1:${this.hubPort}`,
      APP_COOKIE_SECURE: '0',
      APP_HUB_KEEPALIVE: '2s',
      MERCURE_SUBSCRIBER_JWT_KEY: subscriberKey,
    }, ARTIFACTS);
    this.hub.start();
    await this.hub.waitHealthy(this.hubPort);
    this.agent.start();
    await this.agent.waitHealthy(this.agentPort);
    this.app.start();
    await this.app.waitHealthy(this.appPort);
    this.url = `http://127.0.0.1:${this.appPort}`;
    return this;
  }

  async restartHub({ downMs = 1500 } = {}) {
    await this.hub.stop('SIGKILL');
    await sleep(downMs);
    this.hub.start();
    await this.hub.waitHealthy(this.hubPort);
  }

  async api(method, path, body) {
    const res = await fetch(`${this.url}/api${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json', Origin: this.url },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  async stop() {
    await this.app?.stop();
    await this.agent?.stop();
    await this.hub?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
