// The /api proxy over real sockets: the real app binary in front of a stub agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, startStub, rawRequest, sleep } from './app_harness.mjs';

let agent;
let app;
let release = null; // lets the streaming stub finish

before(async () => {
  agent = await startStub((req, res, body) => {
    if (req.url.startsWith('/v1/stream')) {
      // An event stream: the kind of response that streams (cpp-httplib would gzip other text
      // types for clients that accept it, and gzip holds pieces back until the end).
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('first piece\n');
      new Promise((resolve) => (release = resolve)).then(() => res.end('last piece\n'));
      return;
    }
    if (req.url.startsWith('/v1/slow')) return; // never answers
    res.writeHead(req.method === 'POST' ? 201 : 200, {
      'Content-Type': 'application/json',
      'Set-Cookie': 'internal=1',
      'X-Internal-Detail': 'agent-only',
      'Keep-Alive': 'timeout=99',
      'Proxy-Authenticate': 'Basic',
      ETag: '"v1"',
    });
    res.end(JSON.stringify({ method: req.method, url: req.url, body }));
  });
  app = await startApp({ APP_AGENT_URL: agent.url, APP_AGENT_TIMEOUT: '1500ms' });
});

after(async () => {
  if (release) release();
  await app?.stop();
  await agent?.close();
});

const ORIGIN = () => ({ Origin: app.url });

test('GET /api/... reaches the agent at /v1/... with the query, the user id and the request id', async () => {
  const res = await fetch(`${app.url}/api/sessions?limit=5&cursor=abc`, { headers: { 'X-Request-Id': 'req-12345' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-request-id'), 'req-12345');
  const seen = agent.requests.at(-1);
  assert.equal(seen.method, 'GET');
  assert.equal(seen.url, '/v1/sessions?limit=5&cursor=abc');
  assert.deepEqual(agent.headerValues(seen, 'x-user-id'), ['local']);
  assert.deepEqual(agent.headerValues(seen, 'x-request-id'), ['req-12345']);
  assert.equal(res.headers.get('etag'), '"v1"');
});

test('a JSON body goes through and the agent status comes back', async () => {
  const res = await fetch(`${app.url}/api/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...ORIGIN() },
    body: JSON.stringify({ title: 'hello' }),
  });
  assert.equal(res.status, 201);
  const echoed = await res.json();
  assert.deepEqual(JSON.parse(echoed.body), { title: 'hello' });
  assert.equal(agent.requests.at(-1).headers['content-type'], 'application/json');
});

test('client copies of X-User-Id in any case, duplicated, never reach the agent', async () => {
  const before = agent.requests.length;
  const res = await rawRequest(
    app.port,
    `GET /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nX-User-Id: mallory\r\nx-user-id: eve\r\nX-USER-ID: root\r\n` +
      `X-Forwarded-For: 6.6.6.6\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(res.status, 200);
  assert.equal(agent.requests.length, before + 1);
  const seen = agent.requests.at(-1);
  assert.deepEqual(agent.headerValues(seen, 'x-user-id'), ['local']);
  assert.deepEqual(agent.headerValues(seen, 'x-forwarded-for'), ['127.0.0.1']);
});

test('an obsolete folded header line carrying X-User-Id is refused before the agent sees anything', async () => {
  const before = agent.requests.length;
  const res = await rawRequest(
    app.port,
    `GET /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nX-Note: a\r\n X-User-Id: mallory\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(res.status, 400);
  assert.equal(JSON.parse(res.body).error.code, 'bad_request');
  assert.equal(agent.requests.length, before);
});

test('hop-by-hop and unknown headers are dropped in both directions', async () => {
  const res = await rawRequest(
    app.port,
    `GET /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nConnection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\n` +
      `Keep-Alive: timeout=100\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Authorization: Basic eDp5\r\nCookie: session=abc\r\n` +
      `Authorization: Bearer not-for-the-agent\r\n\r\n`,
  );
  assert.equal(res.status, 200);
  const seen = agent.requests.at(-1);
  for (const name of ['x-secret-hop', 'keep-alive', 'te', 'upgrade', 'proxy-authorization', 'cookie', 'authorization']) {
    assert.deepEqual(agent.headerValues(seen, name), [], `${name} reached the agent`);
  }
  for (const name of ['set-cookie', 'x-internal-detail', 'proxy-authenticate']) {
    assert.equal(res.headers[name], undefined, `${name} reached the client`);
  }
  assert.notEqual(res.headers['keep-alive'], 'timeout=99');
});

test('a response streams through as it is produced', async () => {
  const res = await fetch(`${app.url}/api/stream`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('first piece')) {
    const { value, done } = await reader.read();
    assert.ok(!done, 'stream ended before the first piece');
    text += decoder.decode(value);
  }
  // The upstream has not finished: the first piece arrived on its own.
  assert.ok(!text.includes('last piece'));
  release();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  assert.equal(text, 'first piece\nlast piece\n');
});

test('bodies must be JSON: other types get 415, broken JSON 400, and the agent is not called', async () => {
  const before = agent.requests.length;
  const form = await fetch(`${app.url}/api/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...ORIGIN() },
    body: 'title=x',
  });
  assert.equal(form.status, 415);
  assert.equal((await form.json()).error.code, 'unsupported_media_type');
  const broken = await fetch(`${app.url}/api/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...ORIGIN() },
    body: '{"title":',
  });
  assert.equal(broken.status, 400);
  assert.equal(agent.requests.length, before);
});

test('a path that tries to leave /v1 is refused', async () => {
  const res = await rawRequest(app.port, `GET /api/%2e%2e/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  assert.equal(res.status, 400);
});

test('a slow agent gives 504 with a JSON error after APP_AGENT_TIMEOUT', async () => {
  const started = Date.now();
  const res = await fetch(`${app.url}/api/slow`);
  assert.equal(res.status, 504);
  assert.equal((await res.json()).error.code, 'agent_timeout');
  assert.ok(Date.now() - started < 5000);
});

test('an agent that is down gives 502 with a JSON error', async () => {
  const down = await startApp({ APP_AGENT_URL: 'http://127.0.0.1:1' });
  try {
    const res = await fetch(`${down.url}/api/sessions`);
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual((await res.json()).error.code, 'agent_unavailable');
  } finally {
    await down.stop();
  }
});

test('each user has a rate limit: past the burst, 429 with Retry-After', async () => {
  const limited = await startApp({ APP_AGENT_URL: agent.url, APP_RATE_LIMIT_BURST: '3', APP_RATE_LIMIT_PER_MINUTE: '6' });
  try {
    const statuses = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${limited.url}/api/sessions`);
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal((await last.json()).error.code, 'rate_limited');
    const wait = Number(last.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 10, `Retry-After ${wait}`);
    // Static files and health checks are not rate limited.
    assert.equal((await fetch(`${limited.url}/healthz`)).status, 200);
  } finally {
    await limited.stop();
  }
});

test('shutdown is clean while idle', async () => {
  const extra = await startApp({ APP_AGENT_URL: agent.url });
  await sleep(50);
  const result = await extra.stop();
  assert.equal(result.code, 0);
});
