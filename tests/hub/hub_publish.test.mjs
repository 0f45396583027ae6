// sse_hub over real sockets, the publishing side: what a publish answers and delivers, the
// errors in the reference hub's order, the validation of topics, and Expect: 100-continue (which
// curl and PHP's libcurl send for bodies over 1 KiB).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  openStream,
  parseEvents,
  publish,
  publishRaw,
  publisherToken,
  startHub,
  stopAll,
  subscribeUrl,
} from './lib/hub_process.mjs';
import { eventSource, nextEvent, rawConnection } from './lib/sse_clients.mjs';

after(stopAll);

describe('publishing', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1' });
  });
  after(() => hub.stop());

  test('an EventSource receives a published update with its id, type and multi-line data', async () => {
    const es = eventSource(subscribeUrl(hub, '/books/1'));
    await new Promise((r) => es.addEventListener('open', r, { once: true }));
    const typed = nextEvent(es, 'book.updated');
    const r = await publish(hub, { topic: '/books/1', data: 'line one\nline two', id: 'book-1-v2', type: 'book.updated' });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.equal(r.body, 'book-1-v2');
    const event = await typed;
    assert.equal(event.data, 'line one\nline two');
    assert.equal(event.lastEventId, 'book-1-v2');
    es.close();
  });

  test('without an id the answer is a urn:uuid, and data lines, retry and id are written as SSE fields', async () => {
    const stream = await openStream(subscribeUrl(hub, '/raw'));
    const r = await publish(hub, { topic: '/raw', data: 'a\nb\r\nc', retry: '2500' });
    assert.match(r.body, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const text = await stream.until(`id: ${r.body}`);
    assert.ok(text.includes(`retry: 2500\nid: ${r.body}\ndata: a\ndata: b\ndata: c\n\n`), text);
    stream.close();
  });

  test('an update with several topics reaches a subscriber of several of them once', async () => {
    const s = await openStream(subscribeUrl(hub, ['/multi/a', '/multi/b']));
    await publish(hub, [['topic', '/multi/a'], ['topic', '/multi/b'], ['data', 'x'], ['id', 'multi-1']]);
    await publish(hub, { topic: '/multi/b', id: 'multi-2' });
    await s.until('id: multi-2');
    assert.deepEqual(parseEvents(s.text()).map((e) => e.id), ['multi-1', 'multi-2']);
    s.close();
  });

  test('non-ASCII UTF-8 topics are accepted and delivered', async () => {
    const topic = '/livres/été/日本';
    const s = await openStream(subscribeUrl(hub, topic));
    assert.equal(s.status, 200);
    assert.equal((await publish(hub, { topic, id: 'utf8-1', data: 'é' })).status, 200);
    await s.until('id: utf8-1');
    assert.equal(parseEvents(s.text())[0].data, 'é');
    s.close();
  });

  test('data that is not UTF-8 is delivered byte for byte, as the reference hub does', async () => {
    const conn = await rawConnection(hub.port);
    conn.write('GET /.well-known/mercure?topic=/bytes HTTP/1.1\r\nHost: x\r\n\r\n');
    await conn.until(':\n');
    const r = await publishRaw(hub, 'topic=%2Fbytes&id=bytes-1&data=%FF%FEok');
    assert.equal(r.status, 200);
    const text = await conn.until('id: bytes-1');
    assert.ok(text.includes('data: \xff\xfeok\n\n'), JSON.stringify(text));
    conn.destroy();
  });
});

describe('publish errors as the reference hub returns them, in its order', () => {
  let hub;
  before(async () => {
    hub = await startHub({ HUB_MAX_TOPICS: '3', HUB_MAX_UPDATE_SIZE: '4KiB', MERCURE_ANONYMOUS: '1' });
  });
  after(() => hub.stop());

  test('400 without topic, bad retry, CR/LF/NUL in id or type, too many topics; 403 for a reserved topic', async () => {
    const cases = [
      [{ data: 'x' }, 400, /Missing "topic" parameter/],
      [{ topic: '/a', retry: 'soon' }, 400, /Invalid "retry" parameter/],
      [{ topic: '/a', id: 'a\nb' }, 400, /"id" field contains a forbidden control character/],
      [{ topic: '/a', id: 'a\rb' }, 400, /"id"/],
      [{ topic: '/a', id: 'a\0b' }, 400, /"id"/],
      [{ topic: '/a', type: 'x\ny' }, 400, /"type" field contains a forbidden control character/],
      [[['topic', '/1'], ['topic', '/2'], ['topic', '/3'], ['topic', '/4']], 400, /too many topics/],
      [{ topic: '/.well-known/mercure/subscriptions/x/y' }, 403, /reserved/],
    ];
    for (const [fields, status, message] of cases) {
      const r = await publish(hub, fields);
      assert.equal(r.status, status, `${JSON.stringify(fields)} -> ${r.status} ${r.body}`);
      assert.match(r.body, message);
    }
  });

  test('topics with control characters (C0, DEL, C1) or invalid UTF-8 are refused with 400', async () => {
    for (const encoded of ['%2Fa%01b', '%2Fa%7Fb', '%2Fa%C2%85b', '%2Fa%C2%9Fb', '%2F%FF', '%2F%C3', '%2F%E0%80%AF', '%2F%ED%A0%80']) {
      const r = await publishRaw(hub, `topic=${encoded}&data=x`);
      assert.equal(r.status, 400, `${encoded} -> ${r.status}`);
      assert.match(r.body, /forbidden control character or invalid UTF-8/);
    }
    assert.equal((await publishRaw(hub, 'topic=%2Fa%C2%A0b&data=x')).status, 200, 'U+00A0 is not a control character');
  });

  test('a token whose mercure.publish does not cover the topic gets 401 before the 403 and 400 of the update', async () => {
    const scoped = publisherToken(['/books/{id}']);
    const r1 = await publish(hub, { topic: '/.well-known/mercure/subscriptions/x/y' }, { token: scoped });
    assert.equal(r1.status, 401, 'reserved topic outside the scope');
    const r2 = await publish(hub, { topic: '/elsewhere', id: 'a\nb' }, { token: scoped });
    assert.equal(r2.status, 401, 'bad id on a topic outside the scope');
    // The form checks that come first in the reference hub still answer 400.
    assert.equal((await publish(hub, { data: 'x' }, { token: scoped })).status, 400);
    assert.equal((await publish(hub, { topic: '/elsewhere', retry: 'x' }, { token: scoped })).status, 400);
    // In scope, the update's own checks apply.
    assert.equal((await publish(hub, { topic: '/books/1', id: 'a\nb' }, { token: scoped })).status, 400);
    assert.equal((await publish(hub, { topic: '/books/1' }, { token: null })).status, 401);
  });

  test('an oversized publish body is refused with 413', async () => {
    const r = await publish(hub, { topic: '/big', data: 'x'.repeat(8192) });
    assert.equal(r.status, 413);
  });
});

describe('Expect: 100-continue', () => {
  let hub;
  before(async () => {
    hub = await startHub({ MERCURE_ANONYMOUS: '1', HUB_MAX_UPDATE_SIZE: '8KiB' });
  });
  after(() => hub.stop());

  function head(length) {
    return `POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${publisherToken()}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;
  }

  test('the hub answers 100 Continue after the headers, then reads the body and publishes', async () => {
    const body = `topic=%2Fexpect&id=expect-1&data=${'y'.repeat(2000)}`;
    const conn = await rawConnection(hub.port);
    const t0 = Date.now();
    conn.write(head(body.length));
    await conn.until('HTTP/1.1 100 Continue\r\n\r\n', 1000);
    assert.ok(Date.now() - t0 < 500, 'the interim answer came at once');
    conn.write(body);
    const text = await conn.until(/HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nexpect-1$/);
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    conn.destroy();
  });

  test('a body over HUB_MAX_UPDATE_SIZE is refused with 413 before any 100 Continue', async () => {
    const conn = await rawConnection(hub.port);
    conn.write(head(9000));
    const text = await conn.until(/HTTP\/1\.1 413/, 2000);
    assert.doesNotMatch(text, /100 Continue/);
    conn.destroy();
  });

  test('curl waiting on Expect: 100-continue is answered at once, not after its 1 s timeout', async () => {
    // libcurl sends Expect for large bodies (over 1 KiB in older versions, 1 MiB in newer
    // ones, always for multipart forms); here it is asked for, so any curl waits on it.
    const run = promisify(execFile);
    const t0 = Date.now();
    const { stdout, stderr } = await run('curl', ['-sS', '-v', '-X', 'POST', hub.mercure,
      '-H', `Authorization: Bearer ${publisherToken()}`, '-H', 'Expect: 100-continue',
      '--data-urlencode', 'topic=/curl', '--data-urlencode', 'id=curl-1',
      '--data-urlencode', `data=${'z'.repeat(2048)}`]);
    const elapsed = Date.now() - t0;
    assert.match(stderr, /> Expect: 100-continue/, 'curl sent Expect');
    assert.match(stderr, /< HTTP\/1\.1 100 Continue/);
    assert.equal(stdout, 'curl-1');
    assert.ok(elapsed < 800, `curl took ${elapsed} ms`);
  });
});

// Every answer carries X-Request-Id (the client's when plausible), and the lines logged for a
// request carry it too. HUB_ACCESS_LOG decides which requests get an access line.
describe('request ids and access lines', () => {
  const logLines = (hub) =>
    hub.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const accessLines = (hub) => logLines(hub).filter((l) => l.msg === 'request');
  const waitFor = async (fn, ms = 5000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test('a publish keeps the client id or gets one; with HUB_ACCESS_LOG=all each request has its line, without its query', async () => {
    const hub = await startHub({ HUB_ACCESS_LOG: 'all', MERCURE_ANONYMOUS: '1' });
    try {
      const mine = await publish(hub, { topic: '/ids', data: 'x' }, { headers: { 'X-Request-Id': 'client-id-42' } });
      assert.equal(mine.status, 200);
      assert.equal(mine.headers.get('x-request-id'), 'client-id-42');
      const theirs = await publish(hub, { topic: '/ids', data: 'y' });
      const generated = theirs.headers.get('x-request-id');
      assert.match(generated, /^[0-9a-f]{6}-[0-9a-f]+$/);
      const again = await publish(hub, { topic: '/ids', data: 'z' });
      assert.notEqual(again.headers.get('x-request-id'), generated, 'ids are unique');
      const junk = await publish(hub, { topic: '/ids', data: 'x' }, { headers: { 'X-Request-Id': 'no spaces allowed' } });
      assert.notEqual(junk.headers.get('x-request-id'), 'no spaces allowed');

      // A stream's head carries its id, and its access line comes when it ends.
      const token = 'secret-looking-token';
      const stream = await openStream(`${subscribeUrl(hub, '/ids')}&authorization=${token}x`, { 'X-Request-Id': 'stream-7' });
      assert.equal(stream.status, 401, 'a bad query token is refused');
      assert.equal(stream.headers.get('x-request-id'), 'stream-7');
      const open = await openStream(subscribeUrl(hub, '/ids'), { 'X-Request-Id': 'stream-8' });
      assert.equal(open.status, 200);
      assert.equal(open.headers.get('x-request-id'), 'stream-8');
      await open.until(':');
      open.close();

      const lines = await waitFor(() => {
        const l = accessLines(hub);
        return l.some((x) => x.request_id === 'stream-8') ? l : null;
      });
      assert.ok(lines, `no access line for the stream:\n${hub.output()}`);
      const byId = Object.fromEntries(lines.map((l) => [l.request_id, l]));
      assert.equal(byId['client-id-42'].method, 'POST');
      assert.equal(byId['client-id-42'].path, '/.well-known/mercure');
      assert.equal(byId['client-id-42'].status, 200);
      assert.ok(byId[generated], 'the generated id is the one logged');
      assert.equal(byId['stream-7'].status, 401);
      assert.equal(byId['stream-8'].stream, true);
      assert.ok(!hub.output().includes(token), 'a query string never reaches the log');
    } finally {
      await hub.stop();
    }
  });

  test('by default only refusals get an access line, and a refusal logs under its request id', async () => {
    const hub = await startHub({ MERCURE_ANONYMOUS: '1' });
    try {
      assert.equal((await publish(hub, { topic: '/quiet', data: 'x' }, { headers: { 'X-Request-Id': 'fine-1' } })).status, 200);
      const refused = await publish(hub, { data: 'no topic' }, { headers: { 'X-Request-Id': 'refused-1' } });
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get('x-request-id'), 'refused-1');
      const lines = await waitFor(() => {
        const l = accessLines(hub);
        return l.some((x) => x.request_id === 'refused-1') ? l : null;
      });
      assert.ok(lines, `no access line for the refusal:\n${hub.output()}`);
      assert.equal(lines.find((l) => l.request_id === 'refused-1').status, 400);
      assert.ok(!lines.some((l) => l.request_id === 'fine-1'), 'an accepted publish is not logged by default');
    } finally {
      await hub.stop();
    }
  });

  test('HUB_ACCESS_LOG takes errors, all or off; anything else stops the hub naming the setting', async () => {
    await assert.rejects(startHub({ HUB_ACCESS_LOG: 'verbose' }), /HUB_ACCESS_LOG/);
    const hub = await startHub({ HUB_ACCESS_LOG: 'off' });
    try {
      assert.equal((await publish(hub, { data: 'no topic' })).status, 400);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(accessLines(hub), []);
    } finally {
      await hub.stop();
    }
  });
});
