// sse_hub over real sockets: limits (slow subscribers by queue bound and by write timeout,
// connections, header size), hostile input, and the process lifecycle (graceful stop, no
// settings, bad settings).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
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
  waitForMetric,
} from './lib/hub_process.mjs';
import { dechunk, rawConnection, rawRequest } from './lib/sse_clients.mjs';

after(stopAll);

// A raw subscriber that sends its request and then never reads.
async function nonReadingSubscriber(hub, topic) {
  const socket = connect(hub.port, '127.0.0.1');
  await new Promise((r) => socket.on('connect', r));
  socket.write(`GET /.well-known/mercure?topic=${topic} HTTP/1.1\r\nHost: x\r\n\r\n`);
  socket.pause();
  let closed = false;
  const chunks = [];
  socket.on('data', (d) => chunks.push(d));
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  return { socket, closed: () => closed, text: () => Buffer.concat(chunks).toString('latin1') };
}

// The dropped subscriber reads nothing until the publishing is over, which takes longer than the
// default write timeout on a loaded machine; the test is about the queue bounds, not that timeout.
const NO_WRITE_TIMEOUT = { HUB_WRITE_TIMEOUT: '300s' };

// A subscriber that stops reading is dropped once its queue passes either bound: a number of
// updates (HUB_SUBSCRIBER_QUEUE) or their bytes (HUB_SUBSCRIBER_QUEUE_BYTES).
async function slowSubscriberIsDropped(hub) {
  const slow = await nonReadingSubscriber(hub, '/firehose');
  const fast = await openStream(subscribeUrl(hub, '/firehose'));
  await sleep(100);
  const data = 'x'.repeat(200 * 1024);
  // Each update waits until the fast subscriber has it: that one stays within any bound however
  // loaded the machine is (a sanitizer build under -j2 reads 200 KiB events slowly), while the
  // one that never reads falls further behind with every update.
  for (let i = 0; i < 120; i++) {
    assert.equal((await publish(hub, { topic: '/firehose', id: `f-${i}`, data })).status, 200);
    await fast.until(`id: f-${i}\n`, 60000);
    assert.ok(!fast.ended(), `the fast subscriber was dropped at f-${i}`);
  }
  assert.equal(parseEvents(fast.text()).length, 120, 'the fast subscriber got every update');
  assert.ok((await metric(hub, 'hub_subscribers_dropped_total{reason="queue_full"}')) >= 1, await metricsText(hub));
  slow.socket.resume();
  await new Promise((r) => { if (slow.closed()) r(); else slow.socket.on('close', r); });
  // What was being written when it was dropped arrived whole, and the stream ended properly.
  const { body, complete } = dechunk(slow.text());
  assert.ok(complete, 'the dropped stream ended with the final chunk');
  const got = parseEvents(body).map((e) => e.id);
  assert.deepEqual(got, got.length ? Array.from({ length: got.length }, (_, i) => `f-${i}`) : [], 'whole events, in order');
  fast.close();
  const resumed = await openStream(subscribeUrl(hub, '/firehose'), { 'Last-Event-ID': 'f-117' });
  await resumed.until('id: f-119');
  assert.deepEqual(parseEvents(resumed.text()).map((e) => e.id), ['f-118', 'f-119']);
  resumed.close();
}

describe('a slow subscriber past the byte bound', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_SUBSCRIBER_QUEUE: '100000', HUB_SUBSCRIBER_QUEUE_BYTES: '1MiB', HUB_MAX_UPDATE_SIZE: '256KiB', ...NO_WRITE_TIMEOUT });
  });
  after(() => hub.stop());

  test('is dropped without delaying others, and can resume by id', () => slowSubscriberIsDropped(hub));
});

describe('a slow subscriber past the count bound', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_SUBSCRIBER_QUEUE: '8', HUB_MAX_UPDATE_SIZE: '256KiB', ...NO_WRITE_TIMEOUT });
  });
  after(() => hub.stop());

  test('is dropped without delaying others, and can resume by id', () => slowSubscriberIsDropped(hub));
});

describe('HUB_WRITE_TIMEOUT', () => {
  test('a subscriber that accepts no bytes for the write timeout is dropped (reason="write_timeout")', async () => {
    const hub = await startHub({
      MERCURE_ANONYMOUS: '1', HUB_WRITE_TIMEOUT: '500ms', HUB_SUBSCRIBER_QUEUE: '1000000',
      HUB_SUBSCRIBER_QUEUE_BYTES: '1GiB', HUB_MAX_UPDATE_SIZE: '256KiB',
    });
    try {
      const stalled = await nonReadingSubscriber(hub, '/stall');
      const fast = await openStream(subscribeUrl(hub, '/stall'));
      await waitForMetric(hub, 'hub_subscribers', (v) => v === 2);
      const data = 'w'.repeat(200 * 1024);
      // Enough to fill both sides' socket buffers, so that the hub's write stalls.
      for (let i = 0; i < 100; i++) await publish(hub, { topic: '/stall', id: `w-${i}`, data });
      await fast.until('id: w-99', 30000);
      await waitForMetric(hub, 'hub_subscribers_dropped_total{reason="write_timeout"}', (v) => v >= 1, 5000);
      assert.equal(await metric(hub, 'hub_subscribers_dropped_total{reason="queue_full"}'), 0);
      await waitForMetric(hub, 'hub_subscribers', (v) => v === 1);
      stalled.socket.destroy();
      fast.close();
    } finally {
      await hub.stop();
    }
  });
});

describe('connection and request limits', () => {
  test('connections past HUB_MAX_CONNECTIONS are refused and counted', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_MAX_CONNECTIONS: '40' });
    try {
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
    } finally {
      await hub.stop();
    }
  });

  test('HUB_MAX_HEADER_BYTES bounds the request head (431 past it)', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_MAX_HEADER_BYTES: '2KiB' });
    try {
      const big = await rawRequest(hub.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(3000)}\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 /);
      const fits = await rawRequest(hub.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ${'p'.repeat(1500)}\r\n\r\n`);
      assert.match(fits, /^HTTP\/1\.1 200 /);
      const longTopic = await fetch(subscribeUrl(hub, `/${'t'.repeat(2500)}`));
      assert.equal(longTopic.status, 431);
    } finally {
      await hub.stop();
    }
  });

  test('malformed HTTP and hostile input get 400 or a closed socket, never a crash', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_MAX_UPDATE_SIZE: '4KiB' });
    try {
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
      assert.equal((await publish(hub, { topic: '/books/' + 'a'.repeat(100000), data: 'x' })).status, 413);
      assert.equal((await fetch(`${hub.url}/healthz`)).status, 200, 'the hub is still serving');
      assert.equal(hub.child.exitCode, null);
    } finally {
      await hub.stop();
    }
  });

  test('unknown paths are 404 and wrong methods 405', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1' });
    try {
      assert.equal((await fetch(`${hub.url}/nope`)).status, 404);
      assert.equal((await fetch(hub.mercure, { method: 'PUT' })).status, 405);
    } finally {
      await hub.stop();
    }
  });
});

describe('process lifecycle', () => {
  test('SIGTERM ends open streams with their final chunk and exits 0 within the drain time', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_DRAIN_TIMEOUT: '3s' });
    const streams = [];
    for (let i = 0; i < 5; i++) streams.push(await openStream(subscribeUrl(hub, '/drain')));
    const raw = await rawConnection(hub.port);
    raw.write('GET /.well-known/mercure?topic=/drain HTTP/1.1\r\nHost: x\r\n\r\n');
    await raw.until(':\n');
    const t0 = Date.now();
    const { code, signal } = await hub.stop();
    assert.equal(signal, null, hub.output());
    assert.equal(code, 0, hub.output());
    assert.ok(Date.now() - t0 < 3000, 'took too long');
    for (const s of streams) await s.closed(2000);
    assert.ok(dechunk(await raw.untilClosed(2000)).complete, 'the stream ended with the final chunk');
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
    await assert.rejects(startHub({ HUB_HISTORY_BYTES: 'big', LOG_FORMAT: 'text' }), /HUB_HISTORY_BYTES/);
    await assert.rejects(startHub({ HUB_REDIS_QUEUE: '0', LOG_FORMAT: 'text' }), /HUB_REDIS_QUEUE/);
  });
});
