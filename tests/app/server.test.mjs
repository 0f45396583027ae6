// The app's own HTTP/1.1 server over real sockets: keep-alive and pipelining, Expect:
// 100-continue, HEAD, gzip of the UI, the connection bound, the Mercure discovery Link, the
// request id on every log line of a request, upstream connection reuse with backpressure, and
// the graceful stop (in-flight requests finish, hub streams close, exit 0 within the drain time).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { startApp, startStub, rawRequest, rssKiB, sleep } from './app_harness.mjs';

let agent;
let app;
let slowRelease = null;
const BIG_PIECES = 768; // of 64 KiB: 48 MiB
let bigWritten = 0;

before(async () => {
  agent = await startStub((req, res, body) => {
    if (req.url.startsWith('/v1/slow')) {
      new Promise((resolve) => (slowRelease = resolve)).then(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"slow":"done"}');
      });
      return;
    }
    if (req.url.startsWith('/v1/big')) {
      // 48 MiB in 64 KiB pieces, written only as fast as the app takes them.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      let left = BIG_PIECES;
      bigWritten = 0;
      const piece = Buffer.alloc(65536, 'b');
      const more = () => {
        while (left > 0) {
          left--;
          bigWritten += piece.length;
          if (!res.write(piece)) return res.once('drain', more);
        }
        res.end();
      };
      more();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', Link: '<http://10.0.0.1:3701/.well-known/mercure>; rel="mercure"' });
    res.end(JSON.stringify({ url: req.url, body }));
  });
  app = await startApp({ APP_AGENT_URL: agent.url, APP_RELAY_BUFFER: '64KiB' });
});

after(async () => {
  if (slowRelease) slowRelease();
  await app?.stop();
  await agent?.close();
});

// Everything that arrives on one socket until `count` responses are in and `until` (a piece of
// the last body) has arrived.
function responsesOn(socket, count, until = '') {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d) => {
      text += d.toString('latin1');
      const statuses = text.match(/HTTP\/1\.1 \d{3} /g) || [];
      if (statuses.length >= count && text.includes(until) && text.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
}

test('keep-alive: several requests on one connection, also sent all at once (pipelined), answered in order', async () => {
  const socket = connect(app.port, '127.0.0.1');
  try {
    const one = responsesOn(socket, 1, '"ok"}');
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(await one, /^HTTP\/1\.1 200 /);
    const three = responsesOn(socket, 3, 'n=3');
    socket.write(
      'GET /api/sessions?n=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/sessions?n=2 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/sessions?n=3 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const text = await three;
    const order = [...text.matchAll(/"url":"\/v1\/sessions\?n=(\d)"/g)].map((m) => m[1]);
    assert.deepEqual(order, ['1', '2', '3']);
  } finally {
    socket.destroy();
  }
});

test('Expect: 100-continue is answered before the body is sent', async () => {
  const socket = connect(app.port, '127.0.0.1');
  try {
    const body = '{"title":"continued"}';
    let text = '';
    const gotContinue = new Promise((resolve) => {
      socket.on('data', (d) => {
        text += d.toString();
        if (text.includes('100 Continue')) resolve();
      });
    });
    socket.write(
      `POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nOrigin: ${app.url}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await gotContinue;
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    const final = responsesOn(socket, 1, 'continued');
    socket.write(body);
    assert.match(await final, /HTTP\/1\.1 200 [^]*continued/);
  } finally {
    socket.destroy();
  }
});

test('HEAD of a UI file has its headers and no body; the UI is gzipped for clients that accept it', async () => {
  const head = await rawRequest(app.port, 'HEAD /assets/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(head.status, 200);
  assert.ok(Number(head.headers['content-length']) > 1000);
  assert.equal(head.body, '');
  const plain = await new Promise((resolve) =>
    request(`${app.url}/assets/app.js`, { agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).end(),
  );
  const zipped = await new Promise((resolve) =>
    request(`${app.url}/assets/app.js`, { agent: false, headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).end(),
  );
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.ok(zipped.body.length < plain.body.length);
  assert.deepEqual(gunzipSync(zipped.body), plain.body);
  assert.equal(zipped.headers.etag, plain.headers.etag);
});

test('GET /api/sessions/{id} carries the Mercure discovery Link; upstream Link headers never pass', async () => {
  const one = await fetch(`${app.url}/api/sessions/abc`);
  assert.equal(one.status, 200);
  assert.equal(one.headers.get('link'), '</.well-known/mercure>; rel="mercure"');
  const list = await fetch(`${app.url}/api/sessions`);
  assert.equal(list.headers.get('link'), null);
  const messages = await fetch(`${app.url}/api/sessions/abc/messages`);
  assert.equal(messages.headers.get('link'), null);
});

test('a big streamed answer reaches a slow client whole, and the agent is read only as fast as the client reads', async () => {
  const rssBefore = rssKiB(app.pid);
  let aheadDuringPause = 0;
  let rssDuringPause = 0;
  const received = await new Promise((resolve, reject) => {
    const req = request(`${app.url}/api/big`, { agent: false }, (res) => {
      let total = 0;
      let paused = false;
      res.on('data', (c) => {
        total += c.length;
        if (!paused && total >= 1024 * 1024) {
          // A client that stops reading for a while: the agent must stop too.
          paused = true;
          res.pause();
          setTimeout(() => {
            aheadDuringPause = bigWritten - total;
            rssDuringPause = rssKiB(app.pid);
            res.resume();
          }, 1500);
        }
      });
      res.on('end', () => resolve(total));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(received, BIG_PIECES * 65536);
  // What the agent got ahead by is what the sockets' kernel buffers hold plus APP_RELAY_BUFFER,
  // not the whole answer (which is what an unbounded relay would have taken in by then).
  assert.ok(aheadDuringPause < 40 * 1024 * 1024, `the agent got ${aheadDuringPause} bytes ahead`);
  assert.ok(rssDuringPause - rssBefore < 16 * 1024, `the app grew by ${rssDuringPause - rssBefore} KiB`);
});

test('agent connections are kept alive and reused across requests', async () => {
  const ports = new Set();
  const seen = startStub((req, res) => {
    ports.add(req.socket.remotePort);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
  const stub = await seen;
  const reuse = await startApp({ APP_AGENT_URL: stub.url, APP_THREADS: '1' });
  try {
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${reuse.url}/api/sessions`)).status, 200);
    assert.equal(ports.size, 1, `${ports.size} connections for 10 sequential requests`);
  } finally {
    await reuse.stop();
    await stub.close();
  }
});

test('every log line of a request carries its request id', async () => {
  const down = await startApp({ APP_AGENT_URL: 'http://127.0.0.1:1' });
  try {
    const res = await fetch(`${down.url}/api/sessions`, { headers: { 'X-Request-Id': 'req-log-check-1' } });
    assert.equal(res.status, 502);
    await sleep(100);
    const lines = down.logs.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    });
    const mine = lines.filter((l) => l && l.request_id === 'req-log-check-1');
    assert.ok(mine.some((l) => l.msg === 'upstream unavailable'), 'the warning has no request id');
    assert.ok(mine.some((l) => l.msg === 'request' && l.status === 502), 'the access line has no request id');
    const unmarked = lines.filter((l) => l && (l.msg === 'upstream unavailable' || l.msg === 'request') && !l.request_id);
    assert.deepEqual(unmarked, []);
  } finally {
    await down.stop();
  }
});

test('APP_MAX_CONNECTIONS bounds open connections; the others are closed at once and later ones get in', async () => {
  const bounded = await startApp({ APP_AGENT_URL: agent.url, APP_MAX_CONNECTIONS: '20' });
  const sockets = [];
  try {
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () =>
        new Promise((resolve) => {
          const s = connect(bounded.port, '127.0.0.1');
          sockets.push(s);
          s.on('error', () => resolve('closed'));
          s.on('close', () => resolve('closed'));
          s.once('data', () => resolve('served'));
          s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        }),
      ),
    );
    assert.equal(outcomes.filter((o) => o === 'served').length, 20);
    sockets.forEach((s) => s.destroy());
    await sleep(200);
    assert.equal((await fetch(`${bounded.url}/healthz`)).status, 200);
    const metrics = await (await fetch(`${bounded.url}/metrics`)).text();
    assert.match(metrics, /app_connections_refused_total(\{\})? 10/);
    assert.match(metrics, /http_requests_total\{method="GET",service="app",status="200"\} \d+/);
    assert.match(metrics, /http_request_duration_seconds_count\{service="app"\} \d+/);
  } finally {
    sockets.forEach((s) => s.destroy());
    await bounded.stop();
  }
});

test('SIGTERM: a request in flight finishes, hub streams close, new connections are refused, exit 0', async () => {
  const upstreams = new Set();
  const hub = await startStub((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write(':\n\n');
    upstreams.add(res);
  });
  const stopping = await startApp({ APP_AGENT_URL: agent.url, APP_HUB_UPSTREAM: hub.url, APP_DRAIN_TIMEOUT: '10s' });
  const streamEnded = new Promise((resolve, reject) => {
    request(`${stopping.url}/.well-known/mercure?topic=x`, { agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', resolve);
      res.on('close', resolve);
    })
      .on('error', reject)
      .end();
  });
  for (let i = 0; i < 100 && upstreams.size === 0; i++) await sleep(20);
  const slow = fetch(`${stopping.url}/api/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
  for (let i = 0; i < 100 && !slowRelease; i++) await sleep(20);
  const started = Date.now();
  const exited = stopping.stop();
  await streamEnded;
  await sleep(200);
  await assert.rejects(fetch(`${stopping.url}/healthz`));
  slowRelease();
  slowRelease = null;
  assert.deepEqual(await slow, { status: 200, body: '{"slow":"done"}' });
  const result = await exited;
  assert.equal(result.code, 0);
  assert.ok(Date.now() - started < 5000);
  await hub.close();
});

test('SIGTERM with a request that outlasts APP_DRAIN_TIMEOUT: exit 0 anyway, on time', async () => {
  const stuck = await startApp({ APP_AGENT_URL: agent.url, APP_DRAIN_TIMEOUT: '500ms' });
  const slow = fetch(`${stuck.url}/api/slow`).catch((e) => e);
  for (let i = 0; i < 100 && !slowRelease; i++) await sleep(20);
  const started = Date.now();
  const result = await stuck.stop();
  assert.equal(result.code, 0);
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  assert.ok((await slow) instanceof Error);
  assert.ok(stuck.logs.some((l) => /drain time ran out/.test(l)));
  slowRelease();
  slowRelease = null;
});
