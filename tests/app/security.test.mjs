// Browser security and HTTP-level attacks against the real app binary: security headers, static
// file caching, Origin checks, body and header limits, and the weaknesses of the cpp-httplib
// 0.11.4 server the app used to run on, which must not come back: chunked-body memory exhaustion
// (CVE-2025-46728), header shadowing of REMOTE_ADDR/LOCAL_ADDR (CVE-2025-66570), and
// percent-encoded line breaks turned into real ones inside header values. (attacks.test.mjs has
// the raw-socket floods, smuggling and slow-client tests.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startApp, startStub, rawRequest, rssKiB, sleep } from './app_harness.mjs';

let agent;
let app;

before(async () => {
  agent = await startStub((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  });
  app = await startApp({ APP_AGENT_URL: agent.url, APP_MAX_BODY: '8KiB', APP_MAX_HEADERS: '40' });
});

after(async () => {
  await app?.stop();
  await agent?.close();
});

function assertSecurityHeaders(headers, where) {
  const get = (n) => (typeof headers.get === 'function' ? headers.get(n) : headers[n]);
  const csp = get('content-security-policy');
  assert.ok(csp, `${where}: no CSP`);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(get('x-content-type-options'), 'nosniff', where);
  assert.equal(get('referrer-policy'), 'no-referrer', where);
  assert.equal(get('x-frame-options'), 'DENY', where);
}

test('every kind of response carries the security headers', async () => {
  for (const path of ['/', '/assets/app.js', '/api/me', '/api/sessions', '/nope', '/healthz']) {
    const res = await fetch(app.url + path);
    assertSecurityHeaders(res.headers, path);
  }
  const refused = await rawRequest(app.port, 'POST /api/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assertSecurityHeaders(refused.headers, 'a request refused before routing');
});

test('HSTS is sent when the request came over HTTPS through the ALB, not over plain http', async () => {
  assert.equal((await fetch(app.url + '/')).headers.get('strict-transport-security'), null);
  const viaAlb = await fetch(app.url + '/', { headers: { 'X-Forwarded-Proto': 'https' } });
  assert.match(viaAlb.headers.get('strict-transport-security'), /max-age=\d{7,}/);
});

test('the UI has no inline script or style, and its files have ETags and revalidate with 304', async () => {
  const res = await fetch(app.url + '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  const html = await res.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline <script>');
  assert.doesNotMatch(html, /<style/i, 'inline <style>');
  assert.doesNotMatch(html, /\sstyle=/i, 'style attribute');
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'inline event handler');
  for (const path of ['/', '/assets/app.js', '/assets/styles.css']) {
    const first = await fetch(app.url + path);
    const etag = first.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{32}"$/, path);
    assert.equal(first.headers.get('cache-control'), 'no-cache');
    assert.equal(first.headers.get('vary'), 'Accept-Encoding');
    const again = await fetch(app.url + path, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304, path);
  }
  assert.match((await fetch(app.url + '/assets/app.js')).headers.get('content-type'), /^text\/javascript/);
  assert.match((await fetch(app.url + '/assets/styles.css')).headers.get('content-type'), /^text\/css/);
  assert.equal((await fetch(app.url + '/assets/../main.cpp')).status, 404);
});

test('state-changing API requests need an allowed Origin; reads do not', async () => {
  const post = (headers) =>
    fetch(`${app.url}/api/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' });
  const before = agent.requests.length;
  const none = await post({});
  assert.equal(none.status, 403);
  assert.equal((await none.json()).error.code, 'forbidden_origin');
  assert.equal((await post({ Origin: 'https://evil.example' })).status, 403);
  assert.equal((await post({ Origin: 'null' })).status, 403);
  const del = await fetch(`${app.url}/api/sessions/x`, { method: 'DELETE', headers: { Origin: 'http://evil.example' } });
  assert.equal(del.status, 403);
  assert.equal(agent.requests.length, before);
  assert.equal((await post({ Origin: app.url })).status, 200);
  assert.equal((await fetch(`${app.url}/api/sessions`)).status, 200);
});

test('APP_ALLOWED_ORIGINS replaces the same-host rule', async () => {
  const listed = await startApp({ APP_AGENT_URL: agent.url, APP_ALLOWED_ORIGINS: 'https://chat.example.com' });
  try {
    const post = (origin) =>
      fetch(`${listed.url}/api/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin }, body: '{}' });
    assert.equal((await post('https://chat.example.com')).status, 200);
    assert.equal((await post(listed.url)).status, 403);
  } finally {
    await listed.stop();
  }
});

test('a body over APP_MAX_BODY is refused with 413 before it is read', async () => {
  const res = await rawRequest(
    app.port,
    `POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nOrigin: ${app.url}\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"a":`,
  );
  assert.equal(res.status, 413);
  const body = JSON.parse(res.body.slice(0, res.body.lastIndexOf('}') + 1));
  assert.equal(body.error.code, 'payload_too_large');
});

test('CVE-2025-46728: an endless chunked body is refused with 411 and does not grow memory', async () => {
  const rssBefore = rssKiB(app.pid);
  const result = await new Promise((resolve) => {
    const socket = connect(app.port, '127.0.0.1');
    let response = '';
    let sent = 0;
    const chunk = Buffer.from('10000\r\n' + 'A'.repeat(0x10000) + '\r\n');
    socket.on('data', (d) => (response += d.toString()));
    const finish = () => {
      clearInterval(pump);
      socket.destroy();
      resolve({ response, sent });
    };
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(`POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: ${app.url}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    // Up to 64 MiB, as fast as the app takes it.
    const pump = setInterval(() => {
      while (sent < 64 * 1024 * 1024 && socket.writable && socket.write(chunk)) sent += chunk.length;
      if (sent >= 64 * 1024 * 1024) finish();
    }, 5);
    setTimeout(finish, 8000);
  });
  assert.match(result.response, /^HTTP\/1\.1 411 /);
  assert.match(result.response, /length_required/);
  const grownKiB = rssKiB(app.pid) - rssBefore;
  assert.ok(grownKiB < 16 * 1024, `the app grew by ${grownKiB} KiB`);
  assert.equal((await fetch(app.url + '/healthz')).status, 200);
});

test('Transfer-Encoding in another letter case or beside Content-Length is refused too', async () => {
  for (const head of [
    'transfer-encoding: CHUNKED\r\n',
    'Transfer-Encoding: gzip, chunked\r\n',
    'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n',
  ]) {
    const res = await rawRequest(app.port, `POST /api/sessions HTTP/1.1\r\nHost: x\r\nOrigin: ${app.url}\r\n${head}\r\n0\r\n\r\n`);
    assert.equal(res.status, 411, head);
  }
});

test('two Content-Length headers are refused (request smuggling)', async () => {
  const res = await rawRequest(
    app.port,
    `POST /api/sessions HTTP/1.1\r\nHost: x\r\nOrigin: ${app.url}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}`,
  );
  assert.equal(res.status, 400);
});

test('header shadowing: client-sent REMOTE_ADDR / REMOTE_PORT / LOCAL_ADDR / LOCAL_PORT are refused, any case', async () => {
  const before = agent.requests.length;
  for (const header of ['REMOTE_ADDR: 10.0.0.1', 'remote_addr: 10.0.0.1', 'REMOTE_PORT: 1', 'LOCAL_ADDR: 10.0.0.2', 'Local_Port: 80']) {
    for (const path of ['/api/sessions', '/.well-known/mercure?topic=x']) {
      const res = await rawRequest(app.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${header}\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 400, `${header} on ${path}`);
    }
  }
  assert.equal(agent.requests.length, before);
});

test('percent-encoded line breaks in a header value stay text: no header is made of them', async () => {
  // cpp-httplib decoded "%0D%0A" inside header values into a real line break; Beast does not, so
  // the value reaches the agent as the text it is, and no X-User-Id is made from it.
  const before = agent.requests.length;
  const res = await rawRequest(
    app.port,
    `GET /api/sessions HTTP/1.1\r\nHost: x\r\nAccept: application/json%0D%0AX-User-Id:%20admin\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(res.status, 200);
  assert.equal(agent.requests.length, before + 1);
  const seen = agent.requests.at(-1);
  assert.deepEqual(agent.headerValues(seen, 'accept'), ['application/json%0D%0AX-User-Id:%20admin']);
  assert.deepEqual(agent.headerValues(seen, 'x-user-id'), ['local']);
});

test('too many headers get 431; an oversized header is refused; the app keeps serving', async () => {
  let many = '';
  for (let i = 0; i < 60; i++) many += `X-H${i}: v\r\n`;
  const res = await rawRequest(app.port, `GET /api/me HTTP/1.1\r\nHost: x\r\n${many}Connection: close\r\n\r\n`);
  assert.equal(res.status, 431);
  const big = await rawRequest(app.port, `GET /api/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\nConnection: close\r\n\r\n`);
  assert.ok(big.status === 431 || big.status === 400 || big.status === 0, `status ${big.status}`);
  assert.notEqual(big.status, 200);
  assert.equal((await fetch(app.url + '/healthz')).status, 200);
});

test('/healthz answers for the ALB without identity', async () => {
  const token = await startApp({ APP_AGENT_URL: agent.url, APP_AUTH: 'token', APP_TOKEN_FILE: '/dev/null' }).catch((e) => e);
  // An empty token file is a configuration error: the app refuses to start rather than lock everyone out.
  assert.ok(token instanceof Error && /APP_TOKEN_FILE/.test(token.message));
  const res = await fetch(app.url + '/healthz');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
  await sleep(1);
});
