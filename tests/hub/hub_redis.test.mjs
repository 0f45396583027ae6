// Scale-out: several sse_hub processes share updates through a real redis-server (pub/sub for
// delivery, a stream for history), so a subscriber on any hub gets what any hub published.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort, openStream, parseEvents, publish, sleep, startHub, stopAll, subscribeUrl } from './lib/hub_process.mjs';

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

  test('an unreachable Redis at start stops the hub with a line naming HUB_REDIS_URL', async () => {
    const port = await freePort();
    await assert.rejects(startHub({ ...env(), HUB_REDIS_URL: `redis://127.0.0.1:${port}` }), /HUB_REDIS_URL/);
  });
});
