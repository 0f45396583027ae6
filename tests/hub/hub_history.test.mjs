// sse_hub over real sockets: history and reconnection. Replay after Last-Event-ID (header or
// query), earliest, unknown ids, the history's bounds, and the npm `eventsource` client's own
// reconnection after the hub or the network ends its stream: the client resumes with
// Last-Event-ID by itself and must see every update exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  metric,
  openStream,
  parseEvents,
  publish,
  sleep,
  startHub,
  stopAll,
  subscribeUrl,
  subscriberToken,
} from './lib/hub_process.mjs';
import { recordingEventSource } from './lib/sse_clients.mjs';
import { startTcpProxy } from './lib/tcp_proxy.mjs';

after(stopAll);

const range = (prefix, from, to) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${from + i}`);

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
});

describe('the eventsource client reconnecting by itself', () => {
  test('after the network cuts the stream it resumes with Last-Event-ID and sees every update once', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1' });
    const proxy = await startTcpProxy(hub.port);
    let client;
    try {
      client = recordingEventSource(subscribeUrl(proxy, '/cut'));
      await client.waitFor(() => client.opens() === 1, 5000, 'open');
      // retry: 100 makes the client come back after 100 ms instead of its default 3 s.
      await publish(hub, { topic: '/cut', id: 'cut-0', retry: '100' });
      for (let i = 1; i <= 60; i++) {
        await publish(hub, { topic: '/cut', id: `cut-${i}`, data: `${i}` });
        if (i === 20 || i === 40) {
          await client.waitFor(() => client.ids.length > 0, 5000, 'a first event');
          proxy.cutAll();
        }
        await sleep(15);
      }
      await client.waitFor(() => client.ids.includes('cut-60'), 15000, 'cut-60');
      await sleep(200);
      assert.deepEqual(client.ids, range('cut', 0, 60));
      assert.ok(client.opens() >= 3, `reconnected ${client.opens() - 1} times`);
    } finally {
      client?.close();
      await proxy.close();
      await hub.stop();
    }
  });

  test('after the hub closes the stream at the token exp it reconnects with a fresh token and misses nothing', async () => {
    const hub = await startHub({ HUB_JWT_LEEWAY: '0s' });
    let client;
    try {
      // Like the app's UI, the client presents a new token (valid 2 s here) on every connection.
      client = recordingEventSource(subscribeUrl(hub, '/exp'), () => ({
        Authorization: `Bearer ${subscriberToken(['*'], { exp: Math.floor(Date.now() / 1000) + 2 })}`,
      }));
      await client.waitFor(() => client.opens() === 1, 5000, 'open');
      await publish(hub, { topic: '/exp', id: 'exp-0', retry: '100' });
      const started = Date.now();
      let i = 0;
      while (Date.now() - started < 5000) {
        i++;
        await publish(hub, { topic: '/exp', id: `exp-${i}` });
        await sleep(40);
      }
      await client.waitFor(() => client.ids.includes(`exp-${i}`), 10000, `exp-${i}`);
      await sleep(200);
      assert.deepEqual(client.ids, range('exp', 0, i));
      assert.ok(client.opens() >= 2, `the stream was closed at exp and reopened (${client.opens()} opens)`);
      assert.ok((await metric(hub, 'hub_subscribers_expired_total')) >= 1);
    } finally {
      // A client left open reconnects forever and keeps the test process from ending.
      client?.close();
      await hub.stop();
    }
  });

  test('after the hub drops it as a slow subscriber it resumes and receives everything once', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_SUBSCRIBER_QUEUE_BYTES: '1MiB', HUB_MAX_UPDATE_SIZE: '256KiB' });
    let throttled;
    try {
      // The client stops reading its stream (its fetch body is held back) while updates pile up.
      let paused = false;
      throttled = recordingEventSourceWithThrottle(subscribeUrl(hub, '/slow'), () => paused);
      await throttled.waitFor(() => throttled.opens() === 1, 5000, 'open');
      await publish(hub, { topic: '/slow', id: 'slow-0', retry: '100' });
      await throttled.waitFor(() => throttled.ids.includes('slow-0'), 5000, 'slow-0');
      paused = true;
      const data = 'x'.repeat(200 * 1024);
      for (let i = 1; i <= 100; i++) assert.equal((await publish(hub, { topic: '/slow', id: `slow-${i}`, data })).status, 200);
      assert.ok((await metric(hub, 'hub_subscribers_dropped_total{reason="queue_full"}')) >= 1, 'dropped');
      paused = false;
      await throttled.waitFor(() => throttled.ids.includes('slow-100'), 30000, 'slow-100');
      await sleep(200);
      assert.deepEqual(throttled.ids, range('slow', 0, 100));
      assert.ok(throttled.opens() >= 2, 'it reconnected');
    } finally {
      throttled?.close();
      await hub.stop();
    }
  });
});

// A recording EventSource whose stream is read only while isPaused() is false.
function recordingEventSourceWithThrottle(url, isPaused) {
  return recordingEventSource(url, {}, {
    fetchImpl: async (input, init) => {
      const response = await fetch(input, init);
      if (!response.body) return response;
      const reader = response.body.getReader();
      const body = new ReadableStream({
        async pull(controller) {
          while (isPaused()) await sleep(20);
          try {
            const { value, done } = await reader.read();
            if (done) controller.close();
            else controller.enqueue(value);
          } catch (e) {
            controller.error(e);
          }
        },
        cancel: (reason) => reader.cancel(reason),
      }, { highWaterMark: 0 });
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
  });
}

describe('the history bounds', () => {
  test('HUB_HISTORY_SIZE=0 keeps nothing: a resume replays nothing and says so, and live updates flow', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_HISTORY_SIZE: '0' });
    try {
      await publish(hub, { topic: '/none', id: 'none-1' });
      const s = await openStream(subscribeUrl(hub, '/none'), { 'Last-Event-ID': 'none-1' });
      assert.equal(s.headers.get('last-event-id'), 'earliest');
      await s.until(/not found in the history/);
      await publish(hub, { topic: '/none', id: 'none-2' });
      await s.until('id: none-2');
      assert.deepEqual(parseEvents(s.text()).map((e) => e.id), ['none-2']);
      assert.equal(await metric(hub, 'hub_history_size'), 0);
      s.close();
    } finally {
      await hub.stop();
    }
  });

  test('HUB_HISTORY_BYTES bounds what the history keeps, oldest first', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_HISTORY_BYTES: '64KiB', HUB_MAX_UPDATE_SIZE: '64KiB' });
    try {
      const data = 'b'.repeat(20 * 1024);
      for (let i = 1; i <= 10; i++) await publish(hub, { topic: '/bytes', id: `bytes-${i}`, data });
      const size = await metric(hub, 'hub_history_size');
      assert.ok(size >= 2 && size <= 3, `history holds ${size} updates of 20 KiB under 64 KiB`);
      assert.ok((await metric(hub, 'hub_history_bytes')) <= 64 * 1024);
      const s = await openStream(subscribeUrl(hub, '/bytes'), { 'Last-Event-ID': 'earliest' });
      await s.until('id: bytes-10');
      assert.deepEqual(parseEvents(s.text()).map((e) => e.id), range('bytes', 11 - size, 10));
      s.close();
      const evicted = await openStream(subscribeUrl(hub, '/bytes'), { 'Last-Event-ID': 'bytes-1' });
      await evicted.until(/not found in the history/);
      evicted.close();
    } finally {
      await hub.stop();
    }
  });
});
