// Clients for the hub's process-level tests: the npm `eventsource` package (a real SSE client
// with its own reconnection and Last-Event-ID), and raw TCP exchanges for what a fetch client
// cannot send or see (HTTP/1.0, Expect: 100-continue, HEAD, chunk framing, malformed requests).
import { connect } from 'node:net';
import { EventSource } from 'eventsource';
import { sleep } from './hub_process.mjs';

// An EventSource with extra request headers; `headers` may be a function, called on every
// (re)connection, so a client can present a fresh token each time as the app's UI does.
// `fetchImpl` replaces the global fetch (to hold a stream's body back, for instance).
export function eventSource(url, headers = {}, { fetchImpl = fetch } = {}) {
  return new EventSource(url, {
    fetch: (input, init) => {
      const extra = typeof headers === 'function' ? headers() : headers;
      return fetchImpl(input, { ...init, headers: { ...init.headers, ...extra } });
    },
  });
}

export function nextEvent(es, type = 'message', timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${type} event in time`)), timeoutMs);
    es.addEventListener(type, (e) => {
      clearTimeout(t);
      resolve(e);
    }, { once: true });
  });
}

// An EventSource that records every message id and every (re)open, for reconnection tests.
export function recordingEventSource(url, headers = {}, options = {}) {
  const es = eventSource(url, headers, options);
  const ids = [];
  let opens = 0;
  let errors = 0;
  es.addEventListener('message', (e) => ids.push(e.lastEventId));
  es.addEventListener('open', () => opens++);
  es.addEventListener('error', () => errors++);
  return {
    es,
    ids,
    opens: () => opens,
    errors: () => errors,
    async waitFor(predicate, timeoutMs = 10000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ids=${JSON.stringify(ids)} opens=${opens}`);
        await sleep(20);
      }
    },
    close: () => es.close(),
  };
}

// Sends raw bytes and collects everything the hub answers until it closes or timeoutMs passes.
export function rawRequest(port, text, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    socket.write(text);
    setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, timeoutMs);
  });
}

// A raw connection whose received text can be awaited piece by piece.
export async function rawConnection(port) {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  let closed = false;
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  return {
    socket,
    text: () => text,
    closed: () => closed,
    write: (bytes) => socket.write(bytes),
    async until(test, timeoutMs = 5000) {
      const fn = typeof test === 'function' ? test : (t) => (test instanceof RegExp ? test.test(t) : t.includes(test));
      const deadline = Date.now() + timeoutMs;
      while (!fn(text)) {
        if (Date.now() > deadline) throw new Error(`timed out; received so far:\n${JSON.stringify(text)}`);
        await sleep(10);
      }
      return text;
    },
    async untilClosed(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!closed) {
        if (Date.now() > deadline) throw new Error(`still open; received:\n${JSON.stringify(text)}`);
        await sleep(10);
      }
      return text;
    },
    destroy: () => socket.destroy(),
  };
}

// Splits a raw HTTP/1.1 response into its head and its de-chunked body; `complete` tells whether
// the final zero-length chunk arrived.
export function dechunk(raw) {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  let rest = raw.slice(split + 4);
  let body = '';
  let complete = false;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) break;
    const size = parseInt(rest.slice(0, eol), 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk header in ${JSON.stringify(rest.slice(0, 40))}`);
    if (size === 0) {
      complete = rest.slice(eol + 2, eol + 4) === '\r\n';
      break;
    }
    if (rest.length < eol + 2 + size + 2) break;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
  return { head, body, complete };
}
