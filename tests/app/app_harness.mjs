// What the app's socket-level tests share: starting the real app binary on a free port (and
// always stopping it), small stub upstreams that record what reached them, raw-socket requests
// for attacks an HTTP client library would refuse to send, and a way to read the app's memory.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BIN_DIR = process.env.SUITE_BIN_DIR;
if (!BIN_DIR) throw new Error('SUITE_BIN_DIR is not set (run through ctest)');
export const APP_BIN = join(BIN_DIR, 'app', 'app');

const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// Starts the app with env (on 127.0.0.1, a free port); resolves when it listens.
export async function startApp(env = {}) {
  const child = spawn(APP_BIN, [], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', APP_LISTEN: '127.0.0.1:0', APP_COOKIE_SECURE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs = [];
  let buffer = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('app did not start:\n' + logs.join('\n'))), 10000);
    const onData = (chunk) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening') {
            clearTimeout(timer);
            resolve(Number(entry.address.split(':').pop()));
          }
        } catch {
          // not a JSON line
        }
      }
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code}:\n${logs.join('\n')}${buffer}`));
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const result = await exited;
      clearTimeout(timer);
      running.delete(child);
      return result;
    },
  };
}

// Runs the app expecting it to refuse to start; resolves {code, output}.
export function runAppExpectingExit(env) {
  return new Promise((resolve) => {
    const child = spawn(APP_BIN, [], { env: { PATH: process.env.PATH, APP_LISTEN: '127.0.0.1:0', ...env } });
    running.add(child);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, output });
    });
  });
}

// A stub upstream: handler(req, res, body) answers; every request is recorded with its raw
// headers (as pairs, lower-cased names) and body.
export async function startStub(handler) {
  const requests = [];
  const sockets = new Set();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const pairs = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
      const record = { method: req.method, url: req.url, headers: req.headers, pairs, body };
      requests.push(record);
      handler(req, res, body, record);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    port: server.address().port,
    requests,
    headerValues(record, name) {
      return record.pairs.filter(([k]) => k === name).map(([, v]) => v);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Sends raw bytes and resolves with everything the server sent until it closed (or timeoutMs).
export function rawRequest(port, data, { timeoutMs = 3000 } = {}) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRaw(Buffer.concat(chunks).toString('latin1')));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (c) => {
      chunks.push(c);
      // Done as soon as one whole response with a Content-Length is in (the server may keep
      // the connection open).
      const r = parseRaw(Buffer.concat(chunks).toString('latin1'));
      const length = Number(r.headers['content-length']);
      if (r.status && Number.isFinite(length) && Buffer.byteLength(r.body, 'latin1') >= length) done();
    });
    socket.on('end', done);
    socket.on('error', done);
    socket.write(data);
  });
}

export function parseRaw(text) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const split = text.indexOf('\r\n\r\n');
  const head = split >= 0 ? text.slice(0, split) : text;
  const headers = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: m ? Number(m[1]) : 0, headers, body: split >= 0 ? text.slice(split + 4) : '', raw: text };
}

export function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
