// sse_hub over real sockets: the Mercure protocol as clients see it (publish, subscribe, URI
// templates, authorization, private updates, history and reconnection, subscription events and
// API, CORS, errors, limits, slow subscribers, metrics, graceful stop).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { EventSource } from 'eventsource';
import {
  jwt,
  metric,
  metricsText,
  openStream,
  parseEvents,
  publish,
  publisherToken,
  sleep,
  startHub,
  stopAll,
  subscribeUrl,
  subscriberToken,
  PUBLISHER_KEY,
  SUBSCRIBER_KEY,
} from './lib/hub_process.mjs';

after(stopAll);

// An EventSource (npm eventsource) with extra request headers.
function eventSource(url, headers = {}) {
  return new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
  });
}

function nextMessage(es, type = 'message', timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${type} event in time`)), timeoutMs);
    es.addEventListener(type, (e) => {
      clearTimeout(t);
      resolve(e);
    }, { once: true });
  });
}

function rawRequest(port, text, timeoutMs = 3000) {
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

describe('publish and subscribe', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_HEARTBEAT: '300ms' });
  });
  after(() => hub.stop());

  test('an EventSource receives a published update with its id, type and multi-line data', async () => {
    const es = eventSource(subscribeUrl(hub, '/books/1'));
    await new Promise((r) => es.addEventListener('open', r, { once: true }));
    const typed = nextMessage(es, 'book.updated');
    const r = await publish(hub, { topic: '/books/1', data: 'line one\nline two', id: 'book-1-v2', type: 'book.updated' });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.equal(r.body, 'book-1-v2');
    const event = await typed;
    assert.equal(event.data, 'line one\nline two');
    assert.equal(event.lastEventId, 'book-1-v2');
    es.close();
  });

  test('the stream has SSE headers flushed at once and multi-line data on several data: lines', async () => {
    const stream = await openStream(subscribeUrl(hub, '/raw'));
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('content-type'), 'text/event-stream');
    assert.match(stream.headers.get('cache-control'), /no-cache/);
    assert.equal(stream.headers.get('x-accel-buffering'), 'no');
    const r = await publish(hub, { topic: '/raw', data: 'a\nb\r\nc', retry: '2500' });
    assert.match(r.body, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const text = await stream.until(`id: ${r.body}`);
    assert.ok(text.includes(`retry: 2500\nid: ${r.body}\ndata: a\ndata: b\ndata: c\n\n`), text);
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

  test('an update with several topics reaches a subscriber of several of them once', async () => {
    const s = await openStream(subscribeUrl(hub, ['/multi/a', '/multi/b']));
    await publish(hub, [['topic', '/multi/a'], ['topic', '/multi/b'], ['data', 'x'], ['id', 'multi-1']]);
    await publish(hub, { topic: '/multi/b', id: 'multi-2' });
    await s.until('id: multi-2');
    assert.deepEqual(parseEvents(s.text()).map((e) => e.id), ['multi-1', 'multi-2']);
    s.close();
  });

  test('/healthz answers and /metrics counts connections, publishes and deliveries', async () => {
    const h = await fetch(`${hub.url}/healthz`);
    assert.equal(h.status, 200);
    const before = await metric(hub, 'hub_updates_delivered_total');
    const s = await openStream(subscribeUrl(hub, '/metrics/t'));
    await publish(hub, { topic: '/metrics/t', id: 'm-1' });
    await s.until('id: m-1');
    const text = await metricsText(hub);
    for (const name of ['hub_connections', 'hub_subscribers', 'hub_updates_published_total', 'hub_history_size',
      'hub_subscribers_dropped_total', 'hub_dispatch_latency_seconds_bucket']) {
      assert.match(text, new RegExp(`^${name}`, 'm'), name);
    }
    assert.ok((await metric(hub, 'hub_updates_delivered_total')) >= before + 1);
    assert.ok((await metric(hub, 'hub_subscribers')) >= 1);
    s.close();
  });
});

describe('errors as the reference hub returns them', () => {
  let hub;
  before(async () => {
    hub = await startHub({ HUB_MAX_TOPICS: '3', HUB_MAX_UPDATE_SIZE: '4KiB', MERCURE_ANONYMOUS: '1' });
  });
  after(() => hub.stop());

  test('publish: 400 without topic, bad retry, CR/LF/NUL in id or type, too many topics; 403 reserved topic', async () => {
    const cases = [
      [{ data: 'x' }, 400],
      [{ topic: '/a', retry: 'soon' }, 400],
      [{ topic: '/a', id: 'a\nb' }, 400],
      [{ topic: '/a', id: 'a\rb' }, 400],
      [{ topic: '/a', id: 'a\0b' }, 400],
      [{ topic: '/a', type: 'x\ny' }, 400],
      [[['topic', '/1'], ['topic', '/2'], ['topic', '/3'], ['topic', '/4']], 400],
      [{ topic: '/.well-known/mercure/subscriptions/x/y' }, 403],
    ];
    for (const [fields, status] of cases) {
      const r = await publish(hub, fields);
      assert.equal(r.status, status, `${JSON.stringify(fields)} -> ${r.status} ${r.body}`);
    }
    const missing = await publish(hub, { data: 'x' });
    assert.match(missing.body, /Missing "topic" parameter/);
  });

  test('subscribe: 400 without topic or with too many topics', async () => {
    assert.equal((await fetch(hub.mercure)).status, 400);
    assert.match(await (await fetch(hub.mercure)).text(), /Missing "topic" parameter/);
    const r = await fetch(subscribeUrl(hub, ['/1', '/2', '/3', '/4']));
    assert.equal(r.status, 400);
  });

  test('an oversized publish body is refused with 413', async () => {
    const r = await publish(hub, { topic: '/big', data: 'x'.repeat(8192) });
    assert.equal(r.status, 413);
  });

  test('malformed HTTP and hostile input get 400 or a closed socket, never a crash', async () => {
    const answers = await Promise.all([
      rawRequest(hub.port, 'GARBAGE\r\n\r\n'),
      rawRequest(hub.port, 'GET /.well-known/mercure?topic=%zz HTTP/1.1\r\nHost: x\r\n\r\n'),
      rawRequest(hub.port, 'POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nto%'),
      rawRequest(hub.port, `GET /?${'a'.repeat(70000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      rawRequest(hub.port, 'GET /.well-known/mercure?topic=/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ...\r\n\r\n'),
      rawRequest(hub.port, 'GET /.well-known/mercure?topic=/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer e30.bm90IGpzb24.AA\r\n\r\n'),
    ]);
    assert.match(answers[0], /^HTTP\/1.1 400/);
    assert.match(answers[1], /^HTTP\/1.1 400/);
    assert.match(answers[3], /^HTTP\/1.1 431/);
    assert.match(answers[4], /^HTTP\/1.1 401/);
    assert.match(answers[5], /^HTTP\/1.1 401/);
    const long = '/books/' + 'a'.repeat(100000);
    const r = await publish(hub, { topic: long, data: 'x' });
    assert.equal(r.status, 413);
    const ok = await fetch(`${hub.url}/healthz`);
    assert.equal(ok.status, 200, 'the hub is still serving');
    assert.equal(hub.child.exitCode, null);
  });

  test('unknown paths are 404 and wrong methods 405', async () => {
    assert.equal((await fetch(`${hub.url}/nope`)).status, 404);
    assert.equal((await fetch(hub.mercure, { method: 'PUT' })).status, 405);
  });
});

describe('authorization', () => {
  let hub;
  before(async () => {
    hub = await startHub({ HUB_CORS_ORIGINS: 'https://app.example', HUB_PUBLISH_ORIGINS: 'https://app.example' });
  });
  after(() => hub.stop());

  test('publishing needs a valid token whose mercure.publish covers every topic', async () => {
    assert.equal((await publish(hub, { topic: '/a' }, { token: null })).status, 401);
    assert.equal((await publish(hub, { topic: '/a' }, { token: jwt({ mercure: { publish: ['*'] } }, 'wrong') })).status, 401);
    assert.equal((await publish(hub, { topic: '/a' }, { token: jwt({ mercure: { subscribe: ['*'] } }) })).status, 401);
    assert.equal((await publish(hub, { topic: '/a' }, { token: publisherToken([]) })).status, 401);
    const scoped = publisherToken(['/users/u1/sessions/{session}']);
    assert.equal((await publish(hub, { topic: '/users/u1/sessions/5' }, { token: scoped })).status, 200);
    assert.equal((await publish(hub, { topic: '/users/u2/sessions/5' }, { token: scoped })).status, 401);
    assert.equal((await publish(hub, [['topic', '/users/u1/sessions/5'], ['topic', '/other']], { token: scoped })).status, 401);
    const expired = publisherToken(['*'], { exp: Math.floor(Date.now() / 1000) - 60 });
    assert.equal((await publish(hub, { topic: '/a' }, { token: expired })).status, 401);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"mercure":{"publish":["*"]}}').toString('base64url')}.`;
    assert.equal((await publish(hub, { topic: '/a' }, { token: none })).status, 401);
    const subscriberKeySigned = jwt({ mercure: { publish: ['*'] } }, SUBSCRIBER_KEY);
    assert.equal((await publish(hub, { topic: '/a' }, { token: subscriberKeySigned })).status, 401);
  });

  test('without MERCURE_ANONYMOUS a subscriber needs a token', async () => {
    assert.equal((await fetch(subscribeUrl(hub, '/a'))).status, 401);
    const bad = await fetch(subscribeUrl(hub, '/a', { authorization: 'x.y.z' }));
    assert.equal(bad.status, 401);
  });

  test('private updates reach only subscribers whose mercure.subscribe selectors match', async () => {
    const topic = '/users/alice/sessions/1';
    const alice = await openStream(subscribeUrl(hub, topic), {
      Authorization: `Bearer ${subscriberToken(['/users/alice/sessions/{session}'])}`,
    });
    const bob = await openStream(subscribeUrl(hub, topic), {
      Authorization: `Bearer ${subscriberToken(['/users/bob/sessions/{session}'])}`,
    });
    const publicOnly = await openStream(subscribeUrl(hub, topic), { Authorization: `Bearer ${subscriberToken()}` });
    assert.equal(alice.status, 200);
    assert.equal(publicOnly.status, 200);
    await publish(hub, { topic, data: 'secret', private: 'on', id: 'priv-1' });
    await publish(hub, { topic, data: 'public', id: 'pub-1' });
    await alice.until('id: pub-1');
    await bob.until('id: pub-1');
    await publicOnly.until('id: pub-1');
    assert.deepEqual(parseEvents(alice.text()).map((e) => e.id), ['priv-1', 'pub-1']);
    assert.deepEqual(parseEvents(bob.text()).map((e) => e.id), ['pub-1']);
    assert.deepEqual(parseEvents(publicOnly.text()).map((e) => e.id), ['pub-1']);
    for (const s of [alice, bob, publicOnly]) s.close();
  });

  test('the token can come from the authorization query parameter or the mercureAuthorization cookie', async () => {
    const token = subscriberToken(['*']);
    const viaQuery = await openStream(subscribeUrl(hub, '/q', { authorization: token }));
    const viaCookie = await openStream(subscribeUrl(hub, '/q'), { Cookie: `theme=dark; mercureAuthorization=${token}` });
    assert.equal(viaQuery.status, 200);
    assert.equal(viaCookie.status, 200);
    await publish(hub, { topic: '/q', private: '1', id: 'q-1' });
    await viaQuery.until('id: q-1');
    await viaCookie.until('id: q-1');
    viaQuery.close();
    viaCookie.close();
  });

  test('a cookie-authorized POST must come from an allowed origin', async () => {
    const cookie = `mercureAuthorization=${publisherToken()}`;
    const post = (headers) => publish(hub, { topic: '/c' }, { token: null, headers: { Cookie: cookie, ...headers } });
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ Origin: 'https://evil.example' })).status, 401);
    assert.equal((await post({ Origin: 'https://app.example' })).status, 200);
    assert.equal((await post({ Referer: 'https://app.example/chat' })).status, 200);
  });

  test('the stream is closed at the token exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const s = await openStream(subscribeUrl(hub, '/expiring'), { Authorization: `Bearer ${subscriberToken(['*'], { exp })}` });
    assert.equal(s.status, 200);
    const t0 = Date.now();
    await s.closed(6000);
    assert.ok(Date.now() >= exp * 1000 - 50, 'closed before exp');
    assert.ok(Date.now() - t0 < 4500, 'closed too late');
    assert.ok((await metric(hub, 'hub_subscribers_expired_total')) >= 1);
  });

  test('CORS: allowed origins get credentials headers and a preflight; others get none', async () => {
    const pre = await fetch(hub.mercure, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'last-event-id' },
    });
    assert.ok(pre.status === 204 || pre.status === 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-headers'), /last-event-id/);
    const s = await openStream(subscribeUrl(hub, '/cors', { authorization: subscriberToken() }), { Origin: 'https://app.example' });
    assert.equal(s.headers.get('access-control-allow-origin'), 'https://app.example');
    s.close();
    const other = await fetch(`${hub.url}/healthz`, { headers: { Origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

describe('RS256 and ES256 keys', () => {
  for (const [alg, type, options] of [
    ['RS256', 'rsa', { modulusLength: 2048 }],
    ['ES256', 'ec', { namedCurve: 'P-256' }],
  ]) {
    test(`${alg}: tokens signed with the private key are accepted, HS256 ones refused`, async () => {
      const { publicKey, privateKey } = generateKeyPairSync(type, {
        ...options,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      const hub = await startHub({
        MERCURE_PUBLISHER_JWT_KEY: publicKey,
        MERCURE_PUBLISHER_JWT_ALG: alg,
        MERCURE_SUBSCRIBER_JWT_KEY: publicKey.replace(/\n/g, '\\n'),
        MERCURE_SUBSCRIBER_JWT_ALG: alg,
      });
      try {
        const sub = await openStream(subscribeUrl(hub, '/k', { authorization: jwt({ mercure: { subscribe: ['*'] } }, privateKey, alg) }));
        assert.equal(sub.status, 200);
        const ok = await publish(hub, { topic: '/k', id: `${alg}-1`, private: 'on' }, { token: jwt({ mercure: { publish: ['*'] } }, privateKey, alg) });
        assert.equal(ok.status, 200);
        await sub.until(`id: ${alg}-1`);
        sub.close();
        // The classic confusion: HS256 signed with the public key as the secret.
        const forged = jwt({ mercure: { publish: ['*'] } }, publicKey, 'HS256');
        assert.equal((await publish(hub, { topic: '/k' }, { token: forged })).status, 401);
      } finally {
        await hub.stop();
      }
    });
  }

  test('a key that is not a PEM stops the hub at start naming the setting', async () => {
    await assert.rejects(
      startHub({ MERCURE_PUBLISHER_JWT_KEY: 'not-a-pem', MERCURE_PUBLISHER_JWT_ALG: 'RS256' }),
      /MERCURE_PUBLISHER_JWT_KEY/,
    );
  });
});

describe('history and reconnection', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_HISTORY_SIZE: '5' });
    for (let i = 1; i <= 7; i++) await publish(hub, { topic: i % 2 ? '/h/odd' : '/h/even', id: `h-${i}`, data: `${i}` });
  });
  after(() => hub.stop());

  test('Last-Event-ID header replays later matching updates and the response names the newest id', async () => {
    const s = await openStream(subscribeUrl(hub, '/h/odd'), { 'Last-Event-ID': 'h-3' });
    assert.equal(s.headers.get('last-event-id'), 'h-7');
    await s.until('id: h-7');
    assert.deepEqual(parseEvents(s.text()).map((e) => e.id), ['h-5', 'h-7']);
    await publish(hub, { topic: '/h/odd', id: 'h-live' });
    await s.until('id: h-live');
    assert.deepEqual(parseEvents(s.text()).map((e) => e.id), ['h-5', 'h-7', 'h-live']);
    s.close();
  });

  test('lastEventID query parameter works like the header; earliest replays the whole history', async () => {
    const q = await openStream(subscribeUrl(hub, '*', { lastEventID: 'h-6' }));
    await q.until('id: h-7');
    assert.deepEqual(parseEvents(q.text()).map((e) => e.id).slice(0, 2), ['h-7', 'h-live']);
    q.close();
    const e = await openStream(subscribeUrl(hub, '/h/even', { lastEventID: 'earliest' }));
    await e.until('id: h-6');
    assert.deepEqual(parseEvents(e.text()).map((x) => x.id), ['h-4', 'h-6']);
    e.close();
  });

  test('an unknown or evicted id replays nothing, says so, and the stream stays live', async () => {
    const s = await openStream(subscribeUrl(hub, '/h/odd'), { 'Last-Event-ID': 'h-1' });
    await s.until(/not found in the history/);
    assert.equal(parseEvents(s.text()).length, 0);
    await publish(hub, { topic: '/h/odd', id: 'after-unknown' });
    await s.until('id: after-unknown');
    s.close();
  });

  test('an EventSource resumes after a dropped connection without losing updates', async () => {
    const es = eventSource(subscribeUrl(hub, '/resume'));
    const received = [];
    es.addEventListener('message', (e) => received.push(e.lastEventId));
    await new Promise((r) => es.addEventListener('open', r, { once: true }));
    await publish(hub, { topic: '/resume', id: 'r-1' });
    while (!received.includes('r-1')) await sleep(20);
    es.close();
    await publish(hub, { topic: '/resume', id: 'r-2' });
    const again = await openStream(subscribeUrl(hub, '/resume'), { 'Last-Event-ID': 'r-1' });
    await again.until('id: r-2');
    again.close();
  });
});

describe('subscription events and the subscriptions API', () => {
  let hub;
  before(async () => {
    hub = await startHub({ HUB_SUBSCRIPTIONS: '1' });
  });
  after(() => hub.stop());

  test('subscribers coming and going publish JSON-LD events to allowed watchers', async () => {
    const watcherToken = subscriberToken(['/.well-known/mercure/subscriptions{/topic}{/subscriber}']);
    const watcher = await openStream(
      subscribeUrl(hub, '/.well-known/mercure/subscriptions{/topic}{/subscriber}', { authorization: watcherToken }),
    );
    const blind = await openStream(subscribeUrl(hub, '/.well-known/mercure/subscriptions{/topic}{/subscriber}', {
      authorization: subscriberToken(['/other']),
    }));
    const sub = await openStream(subscribeUrl(hub, '/books/1', {
      authorization: subscriberToken(['/books/{id}'], { mercure: { subscribe: ['/books/{id}'], payload: { user: 'u1' } } }),
    }));
    await watcher.until(/"topic": "\/books\/1",\ndata: +"active": true/);
    sub.close();
    await watcher.until(/"topic": "\/books\/1",\ndata: +"active": false/);
    const events = parseEvents(watcher.text()).map((e) => JSON.parse(e.data)).filter((e) => e.topic === '/books/1');
    assert.equal(events[0]['@context'], 'https://mercure.rocks/');
    assert.equal(events[0].type, 'Subscription');
    assert.equal(events[0].topic, '/books/1');
    assert.match(events[0].subscriber, /^urn:uuid:/);
    assert.equal(events[0].id, `/.well-known/mercure/subscriptions/%2Fbooks%2F1/${encodeURIComponent(events[0].subscriber)}`);
    assert.deepEqual(events[0].payload, { user: 'u1' });
    assert.equal(events[1].active, false);
    await sleep(100);
    assert.equal(parseEvents(blind.text()).length, 0);
    watcher.close();
    blind.close();
  });

  test('GET subscriptions lists active subscriptions with an ETag and answers 304 when unchanged', async () => {
    const apiToken = subscriberToken(['/.well-known/mercure/subscriptions{/topic}{/subscriber}']);
    const sub = await openStream(subscribeUrl(hub, '/api/topic', { authorization: subscriberToken() }));
    await sleep(100);
    const headers = { Authorization: `Bearer ${apiToken}` };
    const r = await fetch(`${hub.mercure}/subscriptions`, { headers });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/ld+json');
    const etag = r.headers.get('etag');
    assert.ok(etag);
    const body = await r.json();
    assert.equal(body.type, 'Subscriptions');
    assert.equal(body.id, '/.well-known/mercure/subscriptions');
    const mine = body.subscriptions.find((s) => s.topic === '/api/topic');
    assert.ok(mine, JSON.stringify(body));
    assert.equal(mine.active, true);
    const notModified = await fetch(`${hub.mercure}/subscriptions`, { headers: { ...headers, 'If-None-Match': etag } });
    assert.equal(notModified.status, 304);

    const byTopic = await (await fetch(`${hub.mercure}/subscriptions/${encodeURIComponent('/api/topic')}`, { headers })).json();
    assert.deepEqual(byTopic.subscriptions.map((s) => s.topic), ['/api/topic']);
    const one = await fetch(`${hub.mercure}/subscriptions/${encodeURIComponent('/api/topic')}/${encodeURIComponent(mine.subscriber)}`, { headers });
    assert.equal(one.status, 200);
    const single = await one.json();
    assert.equal(single['@context'], 'https://mercure.rocks/');
    assert.equal(single.subscriber, mine.subscriber);

    assert.equal((await fetch(`${hub.mercure}/subscriptions`)).status, 401);
    const narrow = subscriberToken(['/books/{id}']);
    assert.equal((await fetch(`${hub.mercure}/subscriptions`, { headers: { Authorization: `Bearer ${narrow}` } })).status, 401);
    sub.close();
  });
});

// A subscriber that stops reading is dropped once its queue passes either bound: a number of
// updates (HUB_SUBSCRIBER_QUEUE) or their bytes (HUB_SUBSCRIBER_QUEUE_BYTES).
async function slowSubscriberIsDropped(hub) {
  // A raw client that sends the request and never reads.
  const slow = connect(hub.port, '127.0.0.1');
  await new Promise((r) => slow.on('connect', r));
  slow.write('GET /.well-known/mercure?topic=/firehose HTTP/1.1\r\nHost: x\r\n\r\n');
  slow.pause();
  let slowClosed = false;
  slow.on('close', () => (slowClosed = true));
  slow.on('error', () => {});
  const fast = await openStream(subscribeUrl(hub, '/firehose'));
  await sleep(100);
  const data = 'x'.repeat(200 * 1024);
  let last;
  for (let i = 0; i < 120; i++) {
    last = await publish(hub, { topic: '/firehose', id: `f-${i}`, data });
    assert.equal(last.status, 200);
  }
  await fast.until('id: f-119', 60000);
  assert.equal(parseEvents(fast.text()).length, 120, 'the fast subscriber got every update');
  assert.ok((await metric(hub, 'hub_subscribers_dropped_total{reason="queue_full"}')) >= 1, await metricsText(hub));
  slow.resume();
  await new Promise((r) => { if (slowClosed) r(); else slow.on('close', r); });
  fast.close();
  // Resuming after the last id it saw is possible (here: from an early one).
  const resumed = await openStream(subscribeUrl(hub, '/firehose'), { 'Last-Event-ID': 'f-117' });
  await resumed.until('id: f-119');
  assert.deepEqual(parseEvents(resumed.text()).map((e) => e.id), ['f-118', 'f-119']);
  resumed.close();
}

describe('a slow subscriber past the byte bound', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_SUBSCRIBER_QUEUE: '100000', HUB_SUBSCRIBER_QUEUE_BYTES: '1MiB', HUB_MAX_UPDATE_SIZE: '256KiB' });
  });
  after(() => hub.stop());

  test('is dropped without delaying others, and can resume by id', () => slowSubscriberIsDropped(hub));
});

describe('limits and slow subscribers', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_SUBSCRIBER_QUEUE: '8', HUB_MAX_CONNECTIONS: '40', HUB_MAX_UPDATE_SIZE: '256KiB' });
  });
  after(() => hub.stop());

  test('a subscriber that stops reading is dropped without delaying others, and can resume by id', () => slowSubscriberIsDropped(hub));

  test('connections past HUB_MAX_CONNECTIONS are refused and counted', async () => {
    const sockets = [];
    let closedByServer = 0;
    for (let i = 0; i < 46; i++) {
      const s = connect(hub.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => closedByServer++);
      sockets.push(s);
    }
    await sleep(500);
    assert.ok(closedByServer >= 6, `closed by the hub: ${closedByServer}`);
    for (const s of sockets) s.destroy();
    await sleep(300);
    const refused = await metric(hub, 'hub_connections_refused_total');
    assert.ok(refused >= 6, `refused=${refused}`);
  });
});

describe('process lifecycle', () => {
  test('SIGTERM closes open streams and exits 0 within the drain time', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_DRAIN_TIMEOUT: '3s' });
    const streams = [];
    for (let i = 0; i < 5; i++) streams.push(await openStream(subscribeUrl(hub, '/drain')));
    const t0 = Date.now();
    const { code, signal } = await hub.stop();
    assert.equal(signal, null, hub.output());
    assert.equal(code, 0, hub.output());
    assert.ok(Date.now() - t0 < 3000, 'took too long');
    for (const s of streams) await s.closed(2000);
    assert.match(hub.output(), /"drained":true/);
  });

  test('with no settings at all it starts, warns, and refuses publishing', async () => {
    const hub = await startHub({}, { keys: false });
    try {
      assert.match(hub.output(), /MERCURE_PUBLISHER_JWT_KEY is not set/);
      assert.equal((await publish(hub, { topic: '/a' })).status, 401);
      assert.equal((await fetch(subscribeUrl(hub, '/a'))).status, 401);
    } finally {
      await hub.stop();
    }
  });

  test('a bad setting stops it at start with one line naming the setting', async () => {
    await assert.rejects(startHub({ HUB_HISTORY_SIZE: 'lots', LOG_FORMAT: 'text' }), /HUB_HISTORY_SIZE/);
  });
});
