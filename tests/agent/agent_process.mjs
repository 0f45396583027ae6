// Starts the real executables for the agent's node tests: the agent (on a free port, against
// SQLite or DynamoDB), dynalite (a real DynamoDB implementation) and sse_hub. Every process
// started here is killed when the test process exits, whatever happens.
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { EventSource } from 'eventsource';

const binDir = process.env.SUITE_BIN_DIR;
const sourceDir = process.env.SUITE_SOURCE_DIR;
if (!binDir || !sourceDir) throw new Error('SUITE_BIN_DIR and SUITE_SOURCE_DIR must be set (run through ctest)');

export const agentBinary = path.join(binDir, 'agent', 'agent');
export const hubBinary = path.join(binDir, 'sse_hub', 'sse_hub');
export const publisherKey = 'agent-tests-publisher-secret-0123456789';
export const subscriberKey = 'agent-tests-subscriber-secret-0123456789';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function scratchDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'agent-node-test-'));
}

function track(child, name) {
  live.add(child);
  const output = [];
  child.stdout?.on('data', (d) => output.push(d.toString()));
  child.stderr?.on('data', (d) => output.push(d.toString()));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    live.delete(child);
    resolve({ code, signal });
  }));
  return { child, output, exited, name };
}

async function waitFor(url, proc, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited early:\n${proc.output.join('')}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch { /* not up yet */ }
    await sleep(50);
  }
  throw new Error(`${proc.name} did not come up at ${url}:\n${proc.output.join('')}`);
}

// The machine is shared: a port found free may be taken before the child binds it. Such a
// start fails fast (the child exits); try again on another port.
async function withPortRetries(start) {
  let lastError;
  for (let attempt = 0; attempt < 4; attempt += 1) {
    try {
      return await start();
    } catch (error) {
      lastError = error;
      if (!/exited early/.test(String(error.message))) throw error;
    }
  }
  throw lastError;
}

export const startDynalite = () => withPortRetries(startDynaliteOnce);
async function startDynaliteOnce() {
  const port = await freePort();
  const proc = track(spawn('node', [path.join(sourceDir, 'node_modules/dynalite/cli.js'), '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] }), 'dynalite');
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(endpoint, proc);
  return { endpoint, stop: async () => { proc.child.kill('SIGKILL'); await proc.exited; } };
}

export const startHub = (extraEnv = {}) =>
  (extraEnv.HUB_LISTEN ? startHubOnce(extraEnv) : withPortRetries(() => startHubOnce(extraEnv)));
async function startHubOnce(extraEnv) {
  const port = extraEnv.HUB_LISTEN ? Number(extraEnv.HUB_LISTEN.split(':').at(-1)) : await freePort();
  const proc = track(spawn(hubBinary, [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HUB_LISTEN: `127.0.0.1:${port}`,
      MERCURE_PUBLISHER_JWT_KEY: publisherKey,
      MERCURE_SUBSCRIBER_JWT_KEY: subscriberKey,
      LOG_FORMAT: 'text',
      ...extraEnv,
    },
  }), 'sse_hub');
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, proc);
  return {
    url, hubUrl: `${url}/.well-known/mercure`, proc,
    stop: async () => { proc.child.kill('SIGTERM'); await proc.exited; },
  };
}

// Settings for the store named by AGENT_TEST_STORE (sqlite by default). For dynamodb, a
// dynalite must be given.
export function storeEnv(kind, { dir, dynalite, table }) {
  if (kind === 'dynamodb') {
    return {
      AGENT_STORE: 'dynamodb',
      AGENT_DYNAMODB_TABLE: table ?? `agent-test-${crypto.randomBytes(4).toString('hex')}`,
      AGENT_DYNAMODB_CREATE_TABLE: '1',
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }
  return { AGENT_STORE: 'sqlite', AGENT_SQLITE_PATH: path.join(dir, 'agent.db') };
}

// Starts the agent; env entries override the defaults. Returns { url, stop, kill, exited, output }.
export const startAgent = (env = {}) =>
  (env.AGENT_LISTEN ? startAgentOnce(env) : withPortRetries(() => startAgentOnce(env)));
async function startAgentOnce(env) {
  const port = await freePort();
  const proc = track(spawn(agentBinary, [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? '/tmp',
      AGENT_LISTEN: `127.0.0.1:${port}`,
      MERCURE_PUBLISHER_JWT_KEY: publisherKey,
      // Nothing listens on port 9: publishing just retries unless a test starts a hub.
      AGENT_HUB_URL: 'http://127.0.0.1:9/.well-known/mercure',
      AGENT_DEMO_DELAY: '5ms',
      AGENT_INSTANCE_ID: 'agent-under-test',
      LOG_FORMAT: 'text',
      ...env,
    },
  }), 'agent');
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, proc);
  return {
    url,
    output: proc.output,
    exited: proc.exited,
    stop: async () => { proc.child.kill('SIGTERM'); return proc.exited; },
    // Sends SIGTERM and returns at once; `exited` tells when it is gone.
    terminate: () => proc.child.kill('SIGTERM'),
    kill: async () => { proc.child.kill('SIGKILL'); return proc.exited; },
  };
}

// A cursor as the stores encode them (base64url JSON), to forge ones the API never issued.
export const forgedCursor = (position) => Buffer.from(JSON.stringify(position)).toString('base64url');

export function hs256(claims, secret) {
  const encode = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${body}.${crypto.createHmac('sha256', secret).update(body).digest('base64url')}`;
}

// A subscriber JWT for the session topics of one user, as the app issues it.
export const subscriberToken = (user) => hs256({ mercure: { subscribe: [`/users/${user}/sessions/{session}`] },
  exp: Math.floor(Date.now() / 1000) + 600 }, subscriberKey);

// An EventSource subscriber on one topic of the hub. `opened` resolves once connected; `events`
// holds the parsed updates; until(predicate) waits for a matching one; close() ends it.
export function subscribe(hubUrl, topic, token, { fromEarliest = false } = {}) {
  const url = new URL(hubUrl);
  url.searchParams.append('topic', topic);
  if (fromEarliest) url.searchParams.append('lastEventID', 'earliest');
  const events = [];
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }),
  });
  const opened = new Promise((resolve, reject) => {
    source.onopen = resolve;
    setTimeout(() => reject(new Error('subscriber did not connect')), 10000);
  });
  source.onmessage = (event) => events.push({ id: event.lastEventId, data: JSON.parse(event.data) });
  const until = async (predicate, timeoutMs = 30000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const found = events.find(predicate);
      if (found) return found;
      await sleep(20);
    }
    throw new Error(`no matching update; got ${JSON.stringify(events.map((e) => e.data.type))}`);
  };
  return { source, events, opened, until, close: () => source.close() };
}

// Runs the agent with settings it must refuse; resolves with its exit code and output once it
// has exited (or fails after timeoutMs if it keeps running).
export async function agentExit(env, timeoutMs = 15000) {
  const port = await freePort();
  const proc = track(spawn(agentBinary, [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? '/tmp',
      AGENT_LISTEN: `127.0.0.1:${port}`,
      MERCURE_PUBLISHER_JWT_KEY: publisherKey,
      AGENT_HUB_URL: 'http://127.0.0.1:9/.well-known/mercure',
      LOG_FORMAT: 'text',
      ...env,
    },
  }), 'agent');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await proc.exited;
  clearTimeout(timer);
  if (signal) throw new Error(`the agent kept running with ${JSON.stringify(env)}:\n${proc.output.join('')}`);
  return { code, output: proc.output.join('') };
}

// A small client of the agent API for one user.
export function apiClient(baseUrl, user) {
  const call = async (method, pathname, body, headers = {}) => {
    const init = { method, headers: { ...headers } };
    if (user !== undefined) init.headers['X-User-Id'] = user;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    } else if (method !== 'GET') {
      init.headers['Content-Length'] = '0';
    }
    const res = await fetch(baseUrl + pathname, init);
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { raw: text }; }
    return { status: res.status, body: json };
  };
  return {
    call,
    createSession: (title) => call('POST', '/v1/sessions', title === undefined ? {} : { title }),
    listSessions: (query = '') => call('GET', `/v1/sessions${query}`),
    getSession: (id, query = '') => call('GET', `/v1/sessions/${id}${query}`),
    rename: (id, title) => call('PATCH', `/v1/sessions/${id}`, { title }),
    remove: (id) => call('DELETE', `/v1/sessions/${id}`),
    send: (id, text) => call('POST', `/v1/sessions/${id}/messages`, { text }),
    cancel: (id) => call('POST', `/v1/sessions/${id}/cancel`),
    approve: (id, callId, body) => call('POST', `/v1/sessions/${id}/approvals/${callId}`, body),
    // Polls until the running assistant message has persisted some streamed text (the agent saves
    // it every AGENT_PERSIST_INTERVAL), so that a test can stop the turn with something produced.
    async waitForPartialText(id, timeoutMs = 30000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const res = await call('GET', `/v1/sessions/${id}?limit=200`);
        const last = res.body?.messages?.at(-1);
        if (last && last.role === 'assistant' && last.status === 'running' && last.text.length > 0) return last;
        await sleep(50);
      }
      throw new Error(`no streamed text was persisted in ${id} within ${timeoutMs} ms`);
    },
    // Polls until the session's last assistant message is no longer running.
    async waitForTurn(id, timeoutMs = 30000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const res = await call('GET', `/v1/sessions/${id}?limit=200`);
        const last = res.body?.messages?.at(-1);
        if (last && last.role === 'assistant' && last.status !== 'running') return res.body;
        await sleep(50);
      }
      throw new Error(`turn in ${id} did not finish within ${timeoutMs} ms`);
    },
  };
}
