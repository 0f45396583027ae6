// sse_hub over real sockets, the subscribing side: the stream's headers and heartbeats, topic
// selectors, topic validation, HEAD, HTTP/1.0 clients, and how a stream ends (the final
// zero-length chunk of a chunked response).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  metric,
  metricsText,
  openStream,
  parseEvents,
  publish,
  sleep,
  startHub,
  stopAll,
  subscribeUrl,
  subscriberToken,
  waitForMetric,
} from './lib/hub_process.mjs';
import { dechunk, rawConnection, rawRequest } from './lib/sse_clients.mjs';

after(stopAll);

describe('the event stream', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_HEARTBEAT: '300ms' });
  });
  after(() => hub.stop());

  test('the stream has SSE headers, flushed at once with a first comment', async () => {
    const stream = await openStream(subscribeUrl(hub, '/headers'));
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('content-type'), 'text/event-stream');
    assert.equal(stream.headers.get('cache-control'), 'private, no-cache, no-store, must-revalidate, max-age=0');
    assert.equal(stream.headers.get('x-accel-buffering'), 'no');
    assert.equal(stream.headers.get('link'), null, 'the reference hub sends no discovery Link on a stream');
    await stream.until(':\n');
    stream.close();
  });

  test('heartbeat comments arrive at the configured interval on an idle stream', async () => {
    const stream = await openStream(subscribeUrl(hub, '/quiet'));
    await sleep(1000);
    const beats = (stream.text().match(/^:\n/gm) || []).length;
    assert.ok(beats >= 3, `expected heartbeats every 300ms, got ${beats} in 1s: ${JSON.stringify(stream.text())}`);
    stream.close();
  });

  test('URI templates and * select topics; other topics are not delivered', async () => {
    const templ = await openStream(subscribeUrl(hub, '/users/{user}/sessions/{session}'));
    const all = await openStream(subscribeUrl(hub, '*'));
    const exact = await openStream(subscribeUrl(hub, '/users/bob/sessions/9'));
    await publish(hub, { topic: '/users/alice/sessions/1', data: 'to-alice', id: 'tm-1' });
    await publish(hub, { topic: '/users/bob/sessions/9', data: 'to-bob', id: 'tm-2' });
    await publish(hub, { topic: '/unrelated', data: 'nope', id: 'tm-3' });
    await all.until('id: tm-3');
    await templ.until('id: tm-2');
    await exact.until('id: tm-2');
    await sleep(100);
    assert.deepEqual(parseEvents(templ.text()).map((e) => e.id), ['tm-1', 'tm-2']);
    assert.deepEqual(parseEvents(exact.text()).map((e) => e.id), ['tm-2']);
    assert.deepEqual(parseEvents(all.text()).map((e) => e.id), ['tm-1', 'tm-2', 'tm-3']);
    for (const s of [templ, all, exact]) s.close();
  });

  test('subscribe topics with control characters or invalid UTF-8 are refused with 400', async () => {
    await waitForMetric(hub, 'hub_subscribers', (v) => v === 0);
    for (const query of ['topic=%FF', 'topic=/ok&topic=%FF', 'topic=/a%01', 'topic=/a%C2%85', 'topic=/a%7F', 'topic=%E0%80%AF']) {
      const r = await fetch(`${hub.mercure}?${query}`);
      assert.equal(r.status, 400, `${query} -> ${r.status}`);
      assert.match(await r.text(), /forbidden control character or invalid UTF-8/);
    }
    assert.equal((await metric(hub, 'hub_subscribers')), 0, await metricsText(hub));
  });

  test('HEAD answers with the stream headers and no body, and the connection serves the next request', async () => {
    await waitForMetric(hub, 'hub_subscribers', (v) => v === 0);
    const raw = await rawRequest(hub.port,
      'HEAD /.well-known/mercure?topic=/head HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const [first, second] = raw.split(/(?=HTTP\/1\.1 )/);
    assert.match(first, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(first, /\r\nContent-Type: text\/event-stream\r\n/);
    assert.doesNotMatch(first, /Transfer-Encoding|Content-Length/);
    assert.ok(first.endsWith('\r\n\r\n'), 'no body after the head');
    assert.match(second, /^HTTP\/1\.1 200 OK[\s\S]*"status":"ok"/);
    assert.equal(await metric(hub, 'hub_subscribers'), 0, 'HEAD does not register a subscriber');
  });

  test('HEAD is checked like GET: 400 without a topic, and any other HEAD has no body', async () => {
    const noTopic = await rawRequest(hub.port, 'HEAD /.well-known/mercure HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(noTopic, /^HTTP\/1\.1 400 /);
    assert.ok(noTopic.endsWith('\r\n\r\n'), JSON.stringify(noTopic));
    const missing = await rawRequest(hub.port, 'HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(missing, /^HTTP\/1\.1 404 /);
    assert.ok(missing.endsWith('\r\n\r\n'), JSON.stringify(missing));
  });

  test('an HTTP/1.0 subscriber gets the events without chunked framing', async () => {
    const conn = await rawConnection(hub.port);
    conn.write('GET /.well-known/mercure?topic=/old HTTP/1.0\r\nHost: x\r\n\r\n');
    await conn.until('\r\n\r\n:\n');
    await publish(hub, { topic: '/old', id: 'old-1', data: 'a\nb' });
    const text = await conn.until('id: old-1\ndata: a\ndata: b\n\n');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    assert.doesNotMatch(head, /Transfer-Encoding/i);
    assert.match(head, /\r\nConnection: close/);
    assert.equal(text.slice(head.length + 4), ':\nid: old-1\ndata: a\ndata: b\n\n');
    conn.destroy();
  });

  test('/healthz answers and /metrics counts connections, publishes and deliveries', async () => {
    assert.equal((await fetch(`${hub.url}/healthz`)).status, 200);
    const before = await metric(hub, 'hub_updates_delivered_total');
    const s = await openStream(subscribeUrl(hub, '/metrics/t'));
    await publish(hub, { topic: '/metrics/t', id: 'm-1' });
    await s.until('id: m-1');
    const text = await metricsText(hub);
    for (const name of ['hub_connections', 'hub_subscribers', 'hub_updates_published_total', 'hub_history_size',
      'hub_history_bytes', 'hub_subscribers_dropped_total', 'hub_dispatch_latency_seconds_bucket']) {
      assert.match(text, new RegExp(`^${name}`, 'm'), name);
    }
    assert.ok((await metric(hub, 'hub_updates_delivered_total')) >= before + 1);
    assert.ok((await metric(hub, 'hub_subscribers')) >= 1);
    s.close();
  });
});

describe('how a stream ends', () => {
  let hub;
  before(async () => {
    hub = await startHub({ HUB_JWT_LEEWAY: '0s' });
  });
  after(() => hub.stop());

  test('at the token exp the chunked stream ends with the final zero-length chunk', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const conn = await rawConnection(hub.port);
    conn.write(`GET /.well-known/mercure?topic=/end HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${subscriberToken(['*'], { exp })}\r\n\r\n`);
    await conn.until('\r\n\r\n');
    await publish(hub, { topic: '/end', id: 'end-1', data: 'x' });
    const text = await conn.untilClosed(6000);
    assert.ok(Date.now() >= exp * 1000 - 50, 'closed before exp');
    const { head, body, complete } = dechunk(text);
    assert.match(head, /Transfer-Encoding: chunked/);
    // The hub closes the connection after the final chunk, and says so in the head: a client
    // that took the socket as reusable would send its next request into a closing socket.
    assert.match(head, /\r\nConnection: close(\r\n|$)/i);
    assert.ok(complete, `no final chunk: ${JSON.stringify(text.slice(-40))}`);
    assert.match(body, /id: end-1\ndata: x\n\n/);
  });

  test('an HTTP/1.0 stream ends by closing the connection at the token exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const conn = await rawConnection(hub.port);
    conn.write(`GET /.well-known/mercure?topic=/end10 HTTP/1.0\r\nAuthorization: Bearer ${subscriberToken(['*'], { exp })}\r\n\r\n`);
    await conn.until('\r\n\r\n:\n');
    const text = await conn.untilClosed(6000);
    assert.ok(text.endsWith(':\n') || text.endsWith('\n\n'), JSON.stringify(text.slice(-20)));
  });
});
