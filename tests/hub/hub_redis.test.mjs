// Scale-out: several sse_hub processes share updates through a real redis-server (pub/sub for
// delivery, a stream for history), so a subscriber on any hub gets what any hub published; a
// Redis that hangs or goes away never stalls the hub's event loops.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort, openStream, parseEvents, publish, publishRaw, sleep, startHub, stopAll, subscribeUrl } from './lib/hub_process.mjs';
import { rawConnection } from './lib/sse_clients.mjs';

let redis;
let redisPort;

async function startRedis(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  const deadline = Date.now() + 10000;
  while (!output.includes('Ready to accept connections')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start:\n${output}`);
    await sleep(50);
  }
  return child;
}

function stopRedis() {
  if (!redis || redis.exitCode !== null) return Promise.resolve();
  const exited = new Promise((r) => redis.on('exit', r));
  redis.kill('SIGKILL');
  return exited;
}

before(async () => {
  redisPort = await freePort();
  redis = await startRedis(redisPort);
});
after(async () => {
  stopAll();
  await stopRedis();
});

describe('hubs sharing updates through Redis', () => {
  const env = () => ({ MERCURE_ANONYMOUS: '1', HUB_REDIS_URL: `redis://127.0.0.1:${redisPort}`, HUB_HISTORY_SIZE: '100' });

  test('an update published on one hub reaches subscribers of every hub, once and in order', async () => {
    const a = await startHub(env());
    const b = await startHub(env());
    try {
      const onA = await openStream(subscribeUrl(a, '/shared'));
      const onB = await openStream(subscribeUrl(b, '/shared'));
      for (let i = 1; i <= 5; i++) {
        const hub = i % 2 ? a : b;
        assert.equal((await publish(hub, { topic: '/shared', id: `s-${i}`, data: `${i}` })).status, 200);
      }
      await onA.until('id: s-5');
      await onB.until('id: s-5');
      await sleep(100);
      const ids = ['s-1', 's-2', 's-3', 's-4', 's-5'];
      assert.deepEqual(parseEvents(onA.text()).map((e) => e.id), ids);
      assert.deepEqual(parseEvents(onB.text()).map((e) => e.id), ids);
      onA.close();
      onB.close();
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('a hub started later replays earlier updates from the shared stream after Last-Event-ID', async () => {
    const a = await startHub(env());
    try {
      await publish(a, { topic: '/late', id: 'late-1' });
      await publish(a, { topic: '/late', id: 'late-2' });
      await publish(a, { topic: '/late', id: 'late-3' });
    } finally {
      await a.stop();
    }
    const c = await startHub(env());
    try {
      const s = await openStream(subscribeUrl(c, '/late'), { 'Last-Event-ID': 'late-1' });
      await s.until('id: late-3');
      assert.deepEqual(parseEvents(s.text()).map((e) => e.id), ['late-2', 'late-3']);
      s.close();
    } finally {
      await c.stop();
    }
  });

  test('a hub that loses Redis answers 503 to publishers, then catches up when Redis is back', async () => {
    const a = await startHub({ ...env(), HUB_REDIS_TIMEOUT: '500ms' });
    try {
      const s = await openStream(subscribeUrl(a, '/outage'));
      await stopRedis();
      assert.equal((await publish(a, { topic: '/outage', id: 'during' })).status, 503);
      redis = await startRedis(redisPort);
      const deadline = Date.now() + 10000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await publish(a, { topic: '/outage', id: 'after' })).status;
        if (status !== 200) await sleep(200);
      }
      assert.equal(status, 200);
      await s.until('id: after', 10000);
      s.close();
      assert.equal(a.child.exitCode, null, 'the hub kept running');
    } finally {
      await a.stop();
    }
  });

  test('while Redis hangs (SIGSTOP) the event loop keeps serving: heartbeats flow, subscribing answers, a publish gets 503 within HUB_REDIS_TIMEOUT', async () => {
    const a = await startHub({ ...env(), HUB_THREADS: '1', HUB_HEARTBEAT: '200ms', HUB_REDIS_TIMEOUT: '1s', HUB_SUBSCRIPTIONS: '1' });
    const stopped = () => redis.kill('SIGCONT');
    try {
      const s = await openStream(subscribeUrl(a, '/paused'));
      await s.until(':\n:\n');
      redis.kill('SIGSTOP');
      const t0 = Date.now();
      const pending = publish(a, { topic: '/paused', id: 'while-paused' }).then((r) => ({ ...r, elapsed: Date.now() - t0 }));
      const beatsBefore = (s.text().match(/^:\n/gm) || []).length;
      const health = Date.now();
      assert.equal((await fetch(`${a.url}/healthz`)).status, 200);
      assert.ok(Date.now() - health < 300, 'the loop answered /healthz at once');
      const joined = Date.now();
      const newcomer = await openStream(subscribeUrl(a, '/paused'));
      assert.equal(newcomer.status, 200);
      assert.ok(Date.now() - joined < 300, 'a subscriber joined at once (its subscription event is queued)');
      await sleep(800);
      const beats = (s.text().match(/^:\n/gm) || []).length - beatsBefore;
      assert.ok(beats >= 3, `heartbeats while Redis hung: ${beats}`);
      const r = await pending;
      assert.equal(r.status, 503);
      assert.ok(r.elapsed <= 1300, `503 after ${r.elapsed} ms (HUB_REDIS_TIMEOUT is 1 s)`);
      const again = Date.now();
      assert.equal((await publish(a, { topic: '/paused', id: 'still-down' })).status, 503);
      assert.ok(Date.now() - again < 300, 'while Redis is known to be down a publish is refused at once');
      stopped();
      const deadline = Date.now() + 10000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await publish(a, { topic: '/paused', id: 'resumed' })).status;
        if (status !== 200) await sleep(200);
      }
      assert.equal(status, 200);
      await s.until('id: resumed', 10000);
      s.close();
      newcomer.close();
    } finally {
      stopped();
      await a.stop();
    }
  });

  test('past HUB_REDIS_QUEUE waiting publishes, more are refused with 503 at once', async () => {
    const a = await startHub({ ...env(), HUB_REDIS_QUEUE: '2', HUB_REDIS_TIMEOUT: '1s' });
    try {
      redis.kill('SIGSTOP');
      // The first publish is on its way to the hung Redis; two more may wait behind it.
      const first = publish(a, { topic: '/queue', id: 'q-first' });
      await sleep(200);
      const t0 = Date.now();
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
        publish(a, { topic: '/queue', id: `q-${i}` }).then((r) => ({ status: r.status, elapsed: Date.now() - t0 }))));
      assert.equal((await first).status, 503);
      assert.deepEqual(results.map((r) => r.status), [503, 503, 503, 503, 503, 503]);
      const fast = results.filter((r) => r.elapsed < 300).length;
      assert.equal(fast, 4, `refused at once: ${fast} of 6 (${JSON.stringify(results)})`);
    } finally {
      redis.kill('SIGCONT');
      await a.stop();
    }
  });

  test('an update that is not UTF-8 travels through Redis byte for byte', async () => {
    const a = await startHub(env());
    const b = await startHub(env());
    try {
      const conn = await rawConnection(b.port);
      conn.write('GET /.well-known/mercure?topic=/bin HTTP/1.1\r\nHost: x\r\n\r\n');
      await conn.until(':\n');
      const r = await publishRaw(a, 'topic=%2Fbin&id=bin%FF1&type=t%FE&data=%FF%00%C3');
      assert.equal(r.status, 200);
      // Fails with what arrived if the exact bytes do not.
      await conn.until('event: t\xfe\nid: bin\xff1\ndata: \xff\x00\xc3\n\n', 5000);
      conn.destroy();
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('an unreachable Redis at start stops the hub with a line naming HUB_REDIS_URL', async () => {
    const port = await freePort();
    await assert.rejects(startHub({ ...env(), HUB_REDIS_URL: `redis://127.0.0.1:${port}` }), /HUB_REDIS_URL/);
  });
});
