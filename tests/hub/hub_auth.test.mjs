// sse_hub over real sockets: authorization (where the token comes from, what it allows, private
// updates, exp and the leeway, the cookie's name), CORS, and RS256/ES256 keys.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  jwt,
  metric,
  openStream,
  parseEvents,
  publish,
  publisherToken,
  startHub,
  stopAll,
  subscribeUrl,
  subscriberToken,
  SUBSCRIBER_KEY,
} from './lib/hub_process.mjs';

after(stopAll);

const now = () => Math.floor(Date.now() / 1000);

describe('authorization', () => {
  let hub;
  before(async () => {
    hub = await startHub({ HUB_CORS_ORIGINS: 'https://app.example', HUB_PUBLISH_ORIGINS: 'https://app.example', HUB_JWT_LEEWAY: '0s' });
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
    const expired = publisherToken(['*'], { exp: now() - 60 });
    assert.equal((await publish(hub, { topic: '/a' }, { token: expired })).status, 401);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"mercure":{"publish":["*"]}}').toString('base64url')}.`;
    assert.equal((await publish(hub, { topic: '/a' }, { token: none })).status, 401);
    const subscriberKeySigned = jwt({ mercure: { publish: ['*'] } }, SUBSCRIBER_KEY);
    assert.equal((await publish(hub, { topic: '/a' }, { token: subscriberKeySigned })).status, 401);
    const r = await publish(hub, { topic: '/a' }, { token: null });
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="mercure"');
  });

  test('without MERCURE_ANONYMOUS a subscriber needs a token', async () => {
    assert.equal((await fetch(subscribeUrl(hub, '/a'))).status, 401);
    assert.equal((await fetch(subscribeUrl(hub, '/a', { authorization: 'x.y.z' }))).status, 401);
  });

  test('the authorization query parameter given twice is refused with 401, as the reference hub does', async () => {
    const token = subscriberToken(['*']);
    const url = new URL(subscribeUrl(hub, '/twice'));
    url.searchParams.append('authorization', token);
    url.searchParams.append('authorization', token);
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(subscribeUrl(hub, '/once', { authorization: token }), { method: 'HEAD' })).status, 200);
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

  test('a cookie-authorized POST must come from an origin in HUB_PUBLISH_ORIGINS', async () => {
    const cookie = `mercureAuthorization=${publisherToken()}`;
    const post = (headers) => publish(hub, { topic: '/c' }, { token: null, headers: { Cookie: cookie, ...headers } });
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ Origin: 'https://evil.example' })).status, 401);
    assert.equal((await post({ Origin: 'https://app.example' })).status, 200);
    assert.equal((await post({ Referer: 'https://app.example/chat' })).status, 200);
  });

  test('with no leeway the stream is closed at the token exp', async () => {
    const exp = now() + 2;
    const s = await openStream(subscribeUrl(hub, '/expiring'), { Authorization: `Bearer ${subscriberToken(['*'], { exp })}` });
    assert.equal(s.status, 200);
    await s.closed(6000);
    assert.ok(Date.now() >= exp * 1000 - 50, 'closed before exp');
    assert.ok(Date.now() < exp * 1000 + 1500, 'closed too late');
    assert.ok((await metric(hub, 'hub_subscribers_expired_total')) >= 1);
  });

  test('CORS: an allowed origin gets credentials, the exposed Last-Event-ID and a preflight; others get none', async () => {
    const pre = await fetch(hub.mercure, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'last-event-id' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-headers'), /last-event-id/);
    assert.match(pre.headers.get('access-control-allow-methods'), /GET/);
    const s = await openStream(subscribeUrl(hub, '/cors', { authorization: subscriberToken() }),
      { Origin: 'https://app.example', 'Last-Event-ID': 'earliest' });
    assert.equal(s.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(s.headers.get('access-control-allow-credentials'), 'true');
    assert.match(s.headers.get('access-control-expose-headers'), /\bLast-Event-ID\b/);
    assert.match(s.headers.get('vary'), /Origin/);
    s.close();
    const other = await fetch(`${hub.url}/healthz`, { headers: { Origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    assert.equal(other.headers.get('access-control-allow-credentials'), null);
  });
});

describe('CORS with HUB_CORS_ORIGINS=*', () => {
  let hub;
  before(async () => {
    hub = await startHub({ HUB_CORS_ORIGINS: '*', MERCURE_ANONYMOUS: '1' });
  });
  after(() => hub.stop());

  test('any origin may read, but without credentials: the reference hub turns them off for *', async () => {
    const s = await openStream(subscribeUrl(hub, '/star'), { Origin: 'https://anyone.example' });
    assert.equal(s.headers.get('access-control-allow-origin'), '*');
    assert.equal(s.headers.get('access-control-allow-credentials'), null);
    assert.match(s.headers.get('access-control-expose-headers'), /\bLast-Event-ID\b/);
    s.close();
    const pre = await fetch(hub.mercure, {
      method: 'OPTIONS',
      headers: { Origin: 'https://anyone.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.equal(pre.headers.get('access-control-allow-credentials'), null);
  });

  test('* in HUB_CORS_ORIGINS does not let other origins publish with the cookie (HUB_PUBLISH_ORIGINS is empty)', async () => {
    const cookie = `mercureAuthorization=${publisherToken()}`;
    const r = await publish(hub, { topic: '/c' }, { token: null, headers: { Cookie: cookie, Origin: 'https://anyone.example' } });
    assert.equal(r.status, 401);
    assert.equal((await publish(hub, { topic: '/c' })).status, 200, 'a Bearer token still works');
  });
});

describe('HUB_COOKIE_NAME', () => {
  let hub;
  before(async () => {
    hub = await startHub({ HUB_COOKIE_NAME: 'hubToken' });
  });
  after(() => hub.stop());

  test('the token is read from the named cookie, and mercureAuthorization is then ignored', async () => {
    const token = subscriberToken(['*']);
    const named = await openStream(subscribeUrl(hub, '/cookie'), { Cookie: `hubToken=${token}` });
    assert.equal(named.status, 200);
    await publish(hub, { topic: '/cookie', private: 'on', id: 'cookie-1' });
    await named.until('id: cookie-1');
    named.close();
    assert.equal((await fetch(subscribeUrl(hub, '/cookie'), { headers: { Cookie: `mercureAuthorization=${token}` } })).status, 401);
  });
});

describe('HUB_JWT_LEEWAY', () => {
  test('a token past its exp by less than the leeway is accepted, and its stream closes at exp + leeway', async () => {
    const hub = await startHub({ HUB_JWT_LEEWAY: '3s' });
    try {
      assert.equal((await publish(hub, { topic: '/l' }, { token: publisherToken(['*'], { exp: now() - 1 }) })).status, 200);
      assert.equal((await publish(hub, { topic: '/l' }, { token: publisherToken(['*'], { exp: now() - 10 }) })).status, 401);
      assert.equal((await publish(hub, { topic: '/l' }, { token: publisherToken(['*'], { nbf: now() + 2 }) })).status, 200);
      assert.equal((await publish(hub, { topic: '/l' }, { token: publisherToken(['*'], { nbf: now() + 20 }) })).status, 401);
      const exp = now() + 1;
      const s = await openStream(subscribeUrl(hub, '/l'), { Authorization: `Bearer ${subscriberToken(['*'], { exp })}` });
      assert.equal(s.status, 200);
      await s.closed(8000);
      const closedAt = Date.now();
      assert.ok(closedAt >= (exp + 3) * 1000 - 50, `closed ${exp * 1000 + 3000 - closedAt} ms before exp + leeway`);
      assert.ok(closedAt < (exp + 3) * 1000 + 1500, 'closed too late');
      // A client reconnecting at once with the same token is still accepted up to exp + leeway, not after.
      assert.equal((await fetch(subscribeUrl(hub, '/l'), { headers: { Authorization: `Bearer ${subscriberToken(['*'], { exp })}` } })).status, 401);
    } finally {
      await hub.stop();
    }
  });

  test('by default a few seconds of clock skew are tolerated (5 s)', async () => {
    const hub = await startHub({});
    try {
      assert.equal((await publish(hub, { topic: '/d' }, { token: publisherToken(['*'], { exp: now() - 2 }) })).status, 200);
      assert.equal((await publish(hub, { topic: '/d' }, { token: publisherToken(['*'], { exp: now() - 30 }) })).status, 401);
    } finally {
      await hub.stop();
    }
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
