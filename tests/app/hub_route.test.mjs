// The app's local route to the hub (/.well-known/mercure*) over real sockets, with a stub hub
// that holds event streams open: events pass through as they are published, only the subscriber
// cookie and Last-Event-ID go upstream, and open streams have a budget (in all and per user) while
// the API keeps answering.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startApp, startStub, sleep } from './app_harness.mjs';

let hub;
let agent;
let app;
const streams = new Set(); // responses of the stub hub still open
const STREAM_BUDGET = 6;

before(async () => {
  hub = await startStub((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', Link: '<http://127.0.0.1:1/internal>; rel="mercure"' });
    res.write(':\n\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
  });
  agent = await startStub((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"sessions":[]}');
  });
  app = await startApp({
    APP_AGENT_URL: agent.url,
    APP_HUB_UPSTREAM: hub.url,
    APP_THREADS: '4',
    APP_HUB_MAX_STREAMS: String(STREAM_BUDGET),
    APP_HUB_KEEPALIVE: '200ms',
    MERCURE_SUBSCRIBER_JWT_KEY: 'subscriber-key-for-tests-0123456789',
  });
});

after(async () => {
  for (const res of streams) res.destroy();
  await app?.stop();
  await hub?.close();
  await agent?.close();
});

// Opens an event stream through the app; resolves {status, headers, next(), close()}.
function openStream(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${app.url}${path}`, { headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      let buffer = '';
      const waiters = [];
      const ended = new Promise((r) => res.on('end', r));
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buffer += d;
        while (waiters.length && buffer.includes('\n\n')) {
          const i = buffer.indexOf('\n\n');
          const event = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          // Comment lines (the hub's or the app's keep-alives) are not events.
          if (event !== ':') waiters.shift()(event);
        }
      });
      resolve({
        status: res.statusCode,
        headers: res.headers,
        next: () => new Promise((r) => waiters.push(r)),
        close: () => req.destroy(),
        body: () => ended.then(() => buffer),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('events pass through as they are published, with only the hub cookie and Last-Event-ID sent upstream', async () => {
  const stream = await openStream('/.well-known/mercure?topic=%2Fusers%2Flocal%2Fsessions%2Fs1&lastEventID=earliest', {
    Cookie: 'other=secret; mercureAuthorization=jwt-value; third=x',
    'Last-Event-ID': 'urn:uuid:42',
    'X-User-Id': 'admin',
  });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers['content-type'], 'text/event-stream');
  assert.equal(stream.headers.link, undefined, 'an internal hub address leaked');
  const seen = hub.requests.at(-1);
  assert.equal(seen.url, '/.well-known/mercure?topic=%2Fusers%2Flocal%2Fsessions%2Fs1&lastEventID=earliest');
  assert.deepEqual(hub.headerValues(seen, 'cookie'), ['mercureAuthorization=jwt-value']);
  assert.deepEqual(hub.headerValues(seen, 'last-event-id'), ['urn:uuid:42']);
  assert.deepEqual(hub.headerValues(seen, 'x-user-id'), []);
  const upstream = [...streams].at(-1);
  upstream.write('id: e1\ndata: {"type":"text.delta","text":"hi"}\n\n');
  assert.equal(await stream.next(), 'id: e1\ndata: {"type":"text.delta","text":"hi"}');
  upstream.write('id: e2\ndata: two\n\n');
  assert.equal(await stream.next(), 'id: e2\ndata: two');
  stream.close();
});

test('/api/me issues the subscriber cookie for the hub path', async () => {
  const res = await fetch(`${app.url}/api/me`);
  const cookie = res.headers.get('set-cookie');
  assert.match(cookie, /^mercureAuthorization=[\w-]+\.[\w-]+\.[\w-]+; Path=\/\.well-known\/mercure; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
  const payload = JSON.parse(Buffer.from(cookie.split('=')[1].split('.')[1], 'base64url').toString());
  assert.deepEqual(payload.mercure, { subscribe: ['/users/local/sessions/{session}'] });
  assert.ok(payload.exp > Date.now() / 1000 + 60);
});

function getStatus(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { Connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

async function openStreamsGauge() {
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  const m = /^app_hub_streams_open(?:\{\})? (\S+)$/m.exec(metrics);
  return m ? Number(m[1]) : NaN;
}

async function waitForOpenStreams(n) {
  for (let i = 0; i < 100 && (await openStreamsGauge()) !== n; i++) await sleep(50);
  assert.equal(await openStreamsGauge(), n);
}

test('a stream whose client left gives its place back while the hub is quiet', async () => {
  await waitForOpenStreams(0);
  const stream = await openStream('/.well-known/mercure?topic=quiet');
  assert.equal(stream.status, 200);
  await waitForOpenStreams(1);
  const upstreamBefore = streams.size;
  stream.close();
  await waitForOpenStreams(0);
  // And its connection to the hub is closed, not left streaming into nowhere.
  for (let i = 0; i < 100 && streams.size >= upstreamBefore; i++) await sleep(20);
  assert.equal(streams.size, upstreamBefore - 1);
});

test(`with ${STREAM_BUDGET} streams open the API still answers at once; one stream more is told to come back`, async () => {
  await waitForOpenStreams(0);
  const open = [];
  for (let i = 0; i < STREAM_BUDGET; i++) open.push(await openStream(`/.well-known/mercure?topic=t${i}`));
  assert.ok(open.every((s) => s.status === 200));
  await sleep(200);
  // More API requests than the server has event loops, at once: all must be answered quickly.
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 12 }, () => getStatus(`${app.url}/api/sessions`)));
  assert.deepEqual(results, Array(12).fill(200));
  assert.ok(Date.now() - started < 3000, `API took ${Date.now() - started} ms with streams open`);
  assert.equal((await fetch(`${app.url}/`)).status, 200);

  const extra = await openStream('/.well-known/mercure?topic=extra');
  assert.equal(extra.status, 503);
  assert.equal(extra.headers['retry-after'], '2');
  assert.equal(JSON.parse(await extra.body()).error.code, 'hub_busy');

  // A closed stream gives its place back.
  open.pop().close();
  for (let i = 0; i < 50; i++) {
    const again = await openStream('/.well-known/mercure?topic=again');
    if (again.status === 200) {
      again.close();
      break;
    }
    assert.equal(again.status, 503);
    await again.body();
    await sleep(100);
    assert.ok(i < 49, 'the closed stream never gave its place back');
  }
  open.forEach((s) => s.close());
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  assert.match(metrics, /app_hub_streams_refused_total(\{\})? [1-9]/);
});

test('one user cannot take every stream: APP_HUB_MAX_STREAMS_PER_USER per cookie user, else per address', async () => {
  const key = 'subscriber-key-for-tests-0123456789';
  const perUser = await startApp({
    APP_AGENT_URL: agent.url,
    APP_HUB_UPSTREAM: hub.url,
    APP_HUB_MAX_STREAMS_PER_USER: '2',
    MERCURE_SUBSCRIBER_JWT_KEY: key,
  });
  const opened = [];
  const open = (headers, localAddress) =>
    new Promise((resolve, reject) => {
      const req = request(
        `${perUser.url}/.well-known/mercure?topic=x`,
        { headers: { Accept: 'text/event-stream', ...headers }, agent: false, localAddress },
        (res) => {
          opened.push(req);
          let body = '';
          res.on('data', (d) => (body += d));
          const ended = new Promise((r) => res.on('end', () => r(body)));
          resolve({ status: res.statusCode, body: () => ended });
        },
      );
      req.on('error', reject);
      req.end();
    });
  try {
    const cookie = (await fetch(`${perUser.url}/api/me`)).headers.get('set-cookie').split(';')[0];
    assert.equal((await open({ Cookie: cookie })).status, 200);
    assert.equal((await open({ Cookie: cookie })).status, 200);
    const third = await open({ Cookie: cookie });
    assert.equal(third.status, 503);
    assert.equal(JSON.parse(await third.body()).error.code, 'hub_busy');
    // Without a valid cookie the key is the peer address: this one still has room.
    assert.equal((await open({ Cookie: 'mercureAuthorization=forged.jwt.value' })).status, 200);
    assert.equal((await open({})).status, 200);
    assert.equal((await open({})).status, 503);
    assert.equal((await open({}, '127.0.0.3')).status, 200);
  } finally {
    opened.forEach((r) => r.destroy());
    await perUser.stop();
  }
});

test('a hub that is down gives 502 with a JSON error, and the API is unaffected', async () => {
  const lonely = await startApp({ APP_AGENT_URL: agent.url, APP_HUB_UPSTREAM: 'http://127.0.0.1:1' });
  try {
    const res = await fetch(`${lonely.url}/.well-known/mercure?topic=x`);
    assert.equal(res.status, 502);
    assert.equal((await res.json()).error.code, 'hub_unavailable');
    assert.equal((await fetch(`${lonely.url}/api/sessions`)).status, 200);
  } finally {
    await lonely.stop();
  }
});

test('only GET goes to the hub through the app (no publishing from browsers)', async () => {
  const res = await fetch(`${app.url}/.well-known/mercure`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: app.url },
    body: 'topic=x&data=y',
  });
  assert.equal(res.status, 404);
});
