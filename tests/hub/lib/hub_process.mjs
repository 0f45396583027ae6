// Test helpers for sse_hub: start the real executable on a free port, sign JWTs, publish, and
// read raw event streams. Every process started here is killed by stopAll() (call it in after()).
import { spawn } from 'node:child_process';
import { createHmac, sign as cryptoSign, createPrivateKey } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';

const running = new Set();

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

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const PUBLISHER_KEY = 'hub-test-publisher-key-0123456789abcdef';
export const SUBSCRIBER_KEY = 'hub-test-subscriber-key-0123456789abcdef';

// Starts sse_hub with the given settings (defaults: HS256 keys, no anonymous) and waits until it
// answers /healthz.
export async function startHub(env = {}, { keys = true } = {}) {
  const port = await freePort();
  const fullEnv = {
    PATH: process.env.PATH,
    HUB_LISTEN: `127.0.0.1:${port}`,
    HUB_THREADS: '2',
    LOG_LEVEL: 'debug',
    ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '',
    ...(keys ? { MERCURE_PUBLISHER_JWT_KEY: PUBLISHER_KEY, MERCURE_SUBSCRIBER_JWT_KEY: SUBSCRIBER_KEY } : {}),
    ...env,
  };
  const child = spawn(path.join(process.env.SUITE_BIN_DIR, 'sse_hub', 'sse_hub'), [], {
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const hub = {
    port,
    child,
    exited,
    url: `http://127.0.0.1:${port}`,
    mercure: `http://127.0.0.1:${port}/.well-known/mercure`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sse_hub exited at start:\n${output}`);
    try {
      const r = await fetch(`${hub.url}/healthz`);
      if (r.ok) return hub;
    } catch {}
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`sse_hub not healthy in time:\n${output}`);
}

export function stopAll() {
  for (const child of running) child.kill('SIGKILL');
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// HS256 with a secret, or RS256/ES256 with a PEM private key.
export function jwt(claims, key = PUBLISHER_KEY, alg = 'HS256') {
  const input = `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  let signature;
  if (alg === 'HS256') {
    signature = createHmac('sha256', key).update(input).digest();
  } else if (alg === 'RS256') {
    signature = cryptoSign('sha256', Buffer.from(input), createPrivateKey(key));
  } else {
    signature = cryptoSign('sha256', Buffer.from(input), { key: createPrivateKey(key), dsaEncoding: 'ieee-p1363' });
  }
  return `${input}.${b64url(signature)}`;
}

export const publisherToken = (publish = ['*'], extra = {}) => jwt({ mercure: { publish }, ...extra }, PUBLISHER_KEY);
export const subscriberToken = (subscribe, extra = {}) =>
  jwt({ mercure: subscribe === undefined ? {} : { subscribe }, ...extra }, SUBSCRIBER_KEY);

// POSTs a publish form; fields is an object or an array of [name, value] pairs.
export async function publish(hub, fields, { token = publisherToken(), headers = {} } = {}) {
  const body = new URLSearchParams(Array.isArray(fields) ? fields : Object.entries(fields));
  const r = await fetch(hub.mercure, {
    method: 'POST',
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body,
  });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

// POSTs a body that is already form-encoded, byte for byte (for bytes URLSearchParams cannot
// produce, such as %FF).
export async function publishRaw(hub, body, { token = publisherToken(), headers = {} } = {}) {
  const r = await fetch(hub.mercure, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body,
  });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

// Opens a raw event stream with fetch and collects its text; wait for a pattern with until().
export async function openStream(url, headers = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  let text = '';
  let ended = false;
  const waiters = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.test(text) || (ended && w.onEnd)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(text);
      }
    }
  };
  const pump = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        text += decoder.decode(chunk, { stream: true });
        check();
      }
    } catch {}
    ended = true;
    for (const w of waiters.splice(0)) w.resolve(text);
  })();
  return {
    response,
    status: response.status,
    headers: response.headers,
    text: () => text,
    ended: () => ended,
    // Resolves with the text once test(text) holds; rejects after timeoutMs.
    until(test, timeoutMs = 5000) {
      const fn = typeof test === 'function' ? test : (t) => (test instanceof RegExp ? test.test(t) : t.includes(test));
      if (fn(text)) return Promise.resolve(text);
      return new Promise((resolve, reject) => {
        const w = { test: fn, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`timed out waiting; stream so far:\n${text}`));
          }
        }, timeoutMs);
      });
    },
    // Resolves when the server ends the stream.
    closed(timeoutMs = 5000) {
      if (ended) return pump;
      return Promise.race([
        pump,
        sleep(timeoutMs).then(() => {
          throw new Error('stream still open');
        }),
      ]);
    },
    close() {
      controller.abort();
    },
  };
}

export function subscribeUrl(hub, topics, params = {}) {
  const u = new URL(hub.mercure);
  for (const t of [].concat(topics)) u.searchParams.append('topic', t);
  for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
  return u.toString();
}

// Events (id, event, data, retry) parsed from raw stream text; comments are skipped.
export function parseEvents(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const e = { data: [] };
    let any = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || !line) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      any = true;
      if (field === 'data') e.data.push(value);
      else e[field] = value;
    }
    if (any) events.push({ ...e, data: e.data.join('\n') });
  }
  return events;
}

export async function metric(hub, name) {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{') && l.includes(name));
  return line ? Number(line.split(' ').pop()) : undefined;
}

export async function metricsText(hub) {
  return (await fetch(`${hub.url}/metrics`)).text();
}

// Polls a metric until predicate(value) holds; returns the value.
export async function waitForMetric(hub, name, predicate, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let value;
  for (;;) {
    value = await metric(hub, name);
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`${name} stayed at ${value}:\n${await metricsText(hub)}`);
    await sleep(50);
  }
}
