// sse_hub over real sockets: subscription events (JSON-LD updates when subscribers come and go)
// and the subscriptions API, with complete response bodies, ETag/304, and the history-less case.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  openStream,
  parseEvents,
  publish,
  sleep,
  startHub,
  stopAll,
  subscribeUrl,
  subscriberToken,
} from './lib/hub_process.mjs';

after(stopAll);

const WATCH = '/.well-known/mercure/subscriptions{/topic}{/subscriber}';
const CONTEXT = 'https://mercure.rocks/';

// Go's url.QueryEscape, which the reference hub uses in subscription ids.
const queryEscape = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
const subscriptionId = (topic, subscriber) => `/.well-known/mercure/subscriptions/${queryEscape(topic)}/${queryEscape(subscriber)}`;
const byTopic = (a, b) => (a.topic + a.subscriber).localeCompare(b.topic + b.subscriber);

async function withHub(env, body) {
  const hub = await startHub({ HUB_SUBSCRIPTIONS: '1', ...env });
  try {
    await body(hub);
  } finally {
    await hub.stop();
  }
}

// Subscribes and returns the stream with the subscriber id the hub gave it, read from the
// subscription event a watcher received.
async function subscribeSeen(hub, watcher, topics, token) {
  const before = parseEvents(watcher.text()).length;
  const stream = await openStream(subscribeUrl(hub, topics, { authorization: token }));
  assert.equal(stream.status, 200);
  await watcher.until(() => parseEvents(watcher.text()).length >= before + [].concat(topics).length);
  const event = JSON.parse(parseEvents(watcher.text())[before].data);
  return { stream, subscriber: event.subscriber };
}

describe('subscription events', () => {
  test('subscribers coming and going publish complete JSON-LD events to allowed watchers only', () => withHub({}, async (hub) => {
    // The blind one first: the watcher does not see its own arrival, only what comes after it.
    const blind = await openStream(subscribeUrl(hub, WATCH, { authorization: subscriberToken(['/other']) }));
    const watcher = await openStream(subscribeUrl(hub, WATCH, { authorization: subscriberToken([WATCH]) }));
    const token = subscriberToken(undefined, { mercure: { subscribe: ['/books/{id}'], payload: { user: 'u1' } } });
    const sub = await openStream(subscribeUrl(hub, '/books/1', { authorization: token }));
    await watcher.until(/"active": true/);
    sub.close();
    await watcher.until(/"active": false/);
    const events = parseEvents(watcher.text());
    assert.equal(events.length, 2);
    const [came, went] = events.map((e) => JSON.parse(e.data));
    const expected = (active) => ({
      '@context': CONTEXT,
      id: subscriptionId('/books/1', came.subscriber),
      type: 'Subscription',
      subscriber: came.subscriber,
      topic: '/books/1',
      active,
      payload: { user: 'u1' },
    });
    assert.match(came.subscriber, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.deepEqual(came, expected(true));
    assert.deepEqual(went, expected(false));
    // The event's data is the reference hub's indented JSON, on several data: lines.
    assert.match(watcher.text(), /data: \{\ndata: {3}"@context": "https:\/\/mercure\.rocks\/",\n/);
    await sleep(100);
    assert.equal(parseEvents(blind.text()).length, 0);
    watcher.close();
    blind.close();
  }));

  test('a subscribe refused for a bad topic announces nothing, not even for its good topics', () => withHub({}, async (hub) => {
    const watcher = await openStream(subscribeUrl(hub, WATCH, { authorization: subscriberToken([WATCH]) }));
    const refused = await fetch(`${hub.mercure}?topic=/ok&topic=%FF&authorization=${subscriberToken(['*'])}`);
    assert.equal(refused.status, 400);
    const { stream } = await subscribeSeen(hub, watcher, '/good', subscriberToken(['*']));
    stream.close();
    await watcher.until(/"active": false/);
    const topics = parseEvents(watcher.text()).map((e) => JSON.parse(e.data).topic);
    assert.deepEqual(topics, ['/good', '/good']);
    watcher.close();
  }));
});

describe('the subscriptions API', () => {
  test('lists every active subscription as JSON-LD, filters by topic, and finds one by topic and subscriber', () => withHub({}, async (hub) => {
    const api = { Authorization: `Bearer ${subscriberToken([WATCH])}` };
    const watcher = await openStream(subscribeUrl(hub, WATCH, { authorization: subscriberToken([WATCH]) }));
    const a = await subscribeSeen(hub, watcher, ['/api/a', '/api/{x}'],
      subscriberToken(undefined, { mercure: { subscribe: ['*'], payload: { name: 'A' } } }));
    const b = await subscribeSeen(hub, watcher, '/api/b', subscriberToken(['*']));
    await publish(hub, { topic: '/api/a', id: 'api-last' });
    await a.stream.until('id: api-last');

    const r = await fetch(`${hub.mercure}/subscriptions`, { headers: api });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/ld+json');
    assert.equal(r.headers.get('etag'), '"api-last"');
    const body = await r.json();
    assert.deepEqual(Object.keys(body), ['@context', 'id', 'type', 'lastEventID', 'subscriptions']);
    const entry = (topic, subscriber, payload) => ({
      id: subscriptionId(topic, subscriber), type: 'Subscription', subscriber, topic, active: true, ...(payload ? { payload } : {}),
    });
    const watcherId = body.subscriptions.find((s) => s.topic === WATCH)?.subscriber;
    assert.ok(watcherId, 'the watcher is listed too');
    assert.deepEqual({ ...body, subscriptions: [...body.subscriptions].sort(byTopic) }, {
      '@context': CONTEXT,
      id: '/.well-known/mercure/subscriptions',
      type: 'Subscriptions',
      lastEventID: 'api-last',
      subscriptions: [
        entry('/api/a', a.subscriber, { name: 'A' }),
        entry('/api/b', b.subscriber),
        entry('/api/{x}', a.subscriber, { name: 'A' }),
        entry(WATCH, watcherId),
      ].sort(byTopic),
    });

    const path = `/.well-known/mercure/subscriptions/${encodeURIComponent('/api/{x}')}`;
    const filtered = await (await fetch(`${hub.url}${path}`, { headers: api })).json();
    assert.deepEqual(filtered, {
      '@context': CONTEXT, id: path, type: 'Subscriptions', lastEventID: 'api-last',
      subscriptions: [entry('/api/{x}', a.subscriber, { name: 'A' })],
    });

    const one = await fetch(`${hub.mercure}/subscriptions/${encodeURIComponent('/api/a')}/${encodeURIComponent(a.subscriber)}`, { headers: api });
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), { '@context': CONTEXT, ...entry('/api/a', a.subscriber, { name: 'A' }), lastEventID: 'api-last' });

    for (const missing of ['/subscriptions/', `/subscriptions/${encodeURIComponent('/api/b')}/urn%3Auuid%3Anobody`,
      `/subscriptions/${encodeURIComponent('/api/b')}/${encodeURIComponent(a.subscriber)}`, '/subscriptions/a/b/c', '/subscriptionsx']) {
      assert.equal((await fetch(`${hub.mercure}${missing}`, { headers: api })).status, 404, missing);
    }
    for (const s of [watcher, a.stream, b.stream]) s.close();
  }));

  test('the ETag is the last event id: 304 while nothing was dispatched, 200 with a new ETag after', () => withHub({}, async (hub) => {
    const api = { Authorization: `Bearer ${subscriberToken([WATCH])}` };
    await publish(hub, { topic: '/e', id: 'etag-1' });
    const first = await fetch(`${hub.mercure}/subscriptions`, { headers: api });
    assert.equal(first.headers.get('etag'), '"etag-1"');
    const same = await fetch(`${hub.mercure}/subscriptions`, { headers: { ...api, 'If-None-Match': '"etag-1"' } });
    assert.equal(same.status, 304);
    assert.equal(same.headers.get('etag'), '"etag-1"');
    await publish(hub, { topic: '/e', id: 'etag "2" %' });
    const changed = await fetch(`${hub.mercure}/subscriptions`, { headers: { ...api, 'If-None-Match': '"etag-1"' } });
    assert.equal(changed.status, 200);
    assert.equal(changed.headers.get('etag'), '"etag %222%22 %25"');
    assert.equal((await changed.json()).lastEventID, 'etag "2" %');
  }));

  test('with HUB_HISTORY_SIZE=0 the last event id still follows what was dispatched', () => withHub({ HUB_HISTORY_SIZE: '0' }, async (hub) => {
    const api = { Authorization: `Bearer ${subscriberToken([WATCH])}` };
    const empty = await fetch(`${hub.mercure}/subscriptions`, { headers: api });
    assert.equal(empty.headers.get('etag'), '"earliest"');
    assert.equal((await empty.json()).lastEventID, 'earliest');
    await publish(hub, { topic: '/n', id: 'nohist-1' });
    const after1 = await fetch(`${hub.mercure}/subscriptions`, { headers: { ...api, 'If-None-Match': '"earliest"' } });
    assert.equal(after1.status, 200);
    assert.equal(after1.headers.get('etag'), '"nohist-1"');
    assert.equal((await after1.json()).lastEventID, 'nohist-1');
    await publish(hub, { topic: '/n', id: 'nohist-2' });
    const after2 = await fetch(`${hub.mercure}/subscriptions`, { headers: { ...api, 'If-None-Match': '"nohist-1"' } });
    assert.equal(after2.status, 200);
    assert.equal(after2.headers.get('etag'), '"nohist-2"');
  }));

  test('the API needs a token whose mercure.subscribe covers the request path', () => withHub({}, async (hub) => {
    assert.equal((await fetch(`${hub.mercure}/subscriptions`)).status, 401);
    const narrow = subscriberToken(['/books/{id}']);
    assert.equal((await fetch(`${hub.mercure}/subscriptions`, { headers: { Authorization: `Bearer ${narrow}` } })).status, 401);
    const onlyOneTopic = subscriberToken([`/.well-known/mercure/subscriptions/${encodeURIComponent('/a')}{/subscriber}`]);
    const headers = { Authorization: `Bearer ${onlyOneTopic}` };
    assert.equal((await fetch(`${hub.mercure}/subscriptions/${encodeURIComponent('/a')}`, { headers })).status, 200);
    assert.equal((await fetch(`${hub.mercure}/subscriptions/${encodeURIComponent('/b')}`, { headers })).status, 401);
  }));

  test('without HUB_SUBSCRIPTIONS the API does not exist', async () => {
    const hub = await startHub({});
    try {
      assert.equal((await fetch(`${hub.mercure}/subscriptions`, { headers: { Authorization: `Bearer ${subscriberToken(['*'])}` } })).status, 404);
    } finally {
      await hub.stop();
    }
  });
});
