// Identity over real sockets: APP_AUTH none, token (bearer tokens from a file) and alb-oidc (the
// ALB's x-amzn-oidc-data ES256 token), against the real app and a stub agent that records the
// X-User-Id it is given. Every /api request without a valid identity must be 401 and must not
// reach the agent.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, startStub, runAppExpectingExit, rawRequest, sleep } from './app_harness.mjs';

let agent;
let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'app-auth-'));
  agent = await startStub((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ sessions: [] }));
  });
});

after(async () => {
  await agent?.close();
  rmSync(dir, { recursive: true, force: true });
});

function lastUser() {
  return agent.headerValues(agent.requests.at(-1), 'x-user-id');
}

describe('APP_AUTH=none', () => {
  test('every request is the one local user, whatever the client claims', async () => {
    const app = await startApp({ APP_AGENT_URL: agent.url, APP_LOCAL_USER: 'solo' });
    try {
      const me = await (await fetch(`${app.url}/api/me`)).json();
      assert.equal(me.user_id, 'solo');
      assert.equal(me.hub.topic_prefix, '/users/solo/sessions/');
      const res = await fetch(`${app.url}/api/sessions`, { headers: { 'X-User-Id': 'admin' } });
      assert.equal(res.status, 200);
      assert.deepEqual(lastUser(), ['solo']);
    } finally {
      await app.stop();
    }
  });
});

describe('APP_AUTH=token', () => {
  let app;
  let tokenFile;
  const ALICE = 'alice-token-0123456789abcdef';
  const BOB = 'bob-token-0123456789abcdefgh';

  before(async () => {
    tokenFile = join(dir, 'tokens');
    writeFileSync(tokenFile, `# user token\nalice ${ALICE}\n\nbob ${BOB}\n`);
    app = await startApp({ APP_AGENT_URL: agent.url, APP_AUTH: 'token', APP_TOKEN_FILE: tokenFile });
  });
  after(() => app?.stop());

  test('a known bearer token is its user; a forged X-User-Id beside it is ignored', async () => {
    const res = await fetch(`${app.url}/api/sessions`, { headers: { Authorization: `Bearer ${ALICE}`, 'x-user-id': 'bob' } });
    assert.equal(res.status, 200);
    assert.deepEqual(lastUser(), ['alice']);
    const me = await (await fetch(`${app.url}/api/me`, { headers: { Authorization: `bearer ${BOB}` } })).json();
    assert.equal(me.user_id, 'bob');
  });

  test('no token, an unknown token, another scheme or two Authorization headers: 401, agent untouched', async () => {
    const before = agent.requests.length;
    for (const headers of [{}, { Authorization: `Bearer ${ALICE}x` }, { Authorization: `Basic ${ALICE}` }, { 'X-User-Id': 'alice' }]) {
      const res = await fetch(`${app.url}/api/sessions`, { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal((await res.json()).error.code, 'unauthorized');
    }
    const twice = await rawRequest(
      app.port,
      `GET /api/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE}\r\nAuthorization: Bearer ${BOB}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(twice.status, 401);
    assert.equal(agent.requests.length, before);
  });

  test('a bearer-token client needs no Origin for writes (browsers never send the token by themselves)', async () => {
    const res = await fetch(`${app.url}/api/sessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ALICE}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 200);
  });

  test('the token file is read again when it changes', async () => {
    const CAROL = 'carol-token-0123456789abcdef';
    assert.equal((await fetch(`${app.url}/api/me`, { headers: { Authorization: `Bearer ${CAROL}` } })).status, 401);
    await sleep(1100);
    appendFileSync(tokenFile, `carol ${CAROL}\n`);
    await sleep(1100);
    const res = await fetch(`${app.url}/api/me`, { headers: { Authorization: `Bearer ${CAROL}` } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).user_id, 'carol');
  });

  test('a missing or unusable token file stops the app at start with a line naming the setting', async () => {
    const missing = await runAppExpectingExit({ APP_AUTH: 'token' });
    assert.equal(missing.code, 2);
    assert.match(missing.output, /APP_TOKEN_FILE/);
    const short = join(dir, 'short');
    writeFileSync(short, 'dave tooshort\n');
    const bad = await runAppExpectingExit({ APP_AUTH: 'token', APP_TOKEN_FILE: short });
    assert.equal(bad.code, 2);
    assert.match(bad.output, /APP_TOKEN_FILE: .*shorter than 16/);
  });
});

describe('APP_AUTH=alb-oidc', () => {
  const SIGNER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/chat/50dc6c495c0c9188';
  const KID = '7c8a3f1e-1111-2222-3333-444455556666';
  const URL_KID = 'b1b2b3b4-aaaa-bbbb-cccc-ddddeeeeffff';
  const SLOW_KID = 'c1c2c3c4-aaaa-bbbb-cccc-ddddeeeeffff';
  const slowKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const urlKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = keys.publicKey.export({ type: 'spki', format: 'pem' });
  let app;
  let keyServer;

  // The ALB encodes with base64url but keeps '=' padding: reproduce that quirk.
  const b64 = (text, pad) => {
    const s = Buffer.from(text).toString('base64url');
    return pad ? s + '='.repeat((4 - (s.length % 4)) % 4) : s;
  };
  const now = () => Math.floor(Date.now() / 1000);

  function albToken({ header = {}, payload = {}, key = keys.privateKey, pad = true, kid = KID } = {}) {
    const h = { typ: 'JWT', kid, alg: 'ES256', iss: 'https://idp.example.com', client: 'client-1', signer: SIGNER, exp: now() + 120, ...header };
    const p = { sub: 'user-42', email: 'u42@example.com', exp: now() + 120, iss: 'https://idp.example.com', ...payload };
    const input = `${b64(JSON.stringify(h), pad)}.${b64(JSON.stringify(p), pad)}`;
    const signature = cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return `${input}.${signature}`;
  }

  async function status(token) {
    const res = await fetch(`${app.url}/api/sessions`, { headers: token === undefined ? {} : { 'x-amzn-oidc-data': token } });
    return res.status;
  }

  before(async () => {
    const keysDir = join(dir, 'alb-keys');
    rmSync(keysDir, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(keysDir));
    writeFileSync(join(keysDir, `${KID}.pem`), pem);
    keyServer = await startStub((req, res) => {
      if (req.url === `/${SLOW_KID}`) {
        // A slow key server: requests for this kid wait for the one fetch.
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(slowKeys.publicKey.export({ type: 'spki', format: 'pem' }));
        }, 1500);
      } else if (req.url === `/${URL_KID}`) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(urlKeys.publicKey.export({ type: 'spki', format: 'pem' }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    app = await startApp({
      APP_AGENT_URL: agent.url,
      APP_AUTH: 'alb-oidc',
      APP_OIDC_SIGNER_ARN: SIGNER,
      APP_OIDC_KEYS_DIR: keysDir,
      APP_OIDC_KEYS_URL: keyServer.url,
    });
  });
  after(async () => {
    await app?.stop();
    await keyServer?.close();
  });

  test('a valid ALB token (padded base64, exp in the header) is its sub', async () => {
    const res = await fetch(`${app.url}/api/sessions`, { headers: { 'x-amzn-oidc-data': albToken(), 'X-User-Id': 'admin' } });
    assert.equal(res.status, 200);
    assert.deepEqual(lastUser(), ['user-42']);
    assert.equal(await status(albToken({ pad: false })), 200);
  });

  test('a key the app does not have on disk is fetched by kid from APP_OIDC_KEYS_URL', async () => {
    const res = await fetch(`${app.url}/api/me`, {
      headers: { 'x-amzn-oidc-data': albToken({ kid: URL_KID, key: urlKeys.privateKey, payload: { sub: 'from-url' } }) },
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).user_id, 'from-url');
  });

  test('tampered, forged, expired, foreign or missing tokens are 401 and never reach the agent', async () => {
    const before = agent.requests.length;
    const good = albToken();
    const [h, p, s] = good.split('.');
    const evilPayload = b64(JSON.stringify({ sub: 'admin', exp: now() + 120 }), true);
    const hsHeader = b64(JSON.stringify({ alg: 'HS256', kid: KID, signer: SIGNER, exp: now() + 120 }));
    const hsInput = `${hsHeader}.${p}`;
    const confused = `${hsInput}.${createHmac('sha256', pem).update(hsInput).digest('base64url')}`;
    const noneHeader = b64(JSON.stringify({ alg: 'none', kid: KID, signer: SIGNER, exp: now() + 120 }));
    const cases = {
      missing: undefined,
      'tampered payload': `${h}.${evilPayload}.${s}`,
      'tampered signature': `${h}.${p}.${s.slice(0, -4)}AAAA`,
      'signed by another key': albToken({ key: otherKeys.privateKey }),
      'another signer ARN': albToken({ header: { signer: SIGNER.replace('chat', 'evil') } }),
      'expired (header exp)': albToken({ header: { exp: now() - 3600 } }),
      'expired (payload exp)': albToken({ payload: { exp: now() - 3600 } }),
      'unknown kid': albToken({ kid: 'no-such-kid' }),
      'path in kid': albToken({ kid: '../alb-keys/x' }),
      'HS256 with the public key as secret': confused,
      'alg none': `${noneHeader}.${p}.`,
      garbage: 'not.a.token',
      'no sub': albToken({ payload: { sub: undefined } }),
      'sub with a slash': albToken({ payload: { sub: 'a/b' } }),
    };
    for (const [name, token] of Object.entries(cases)) {
      assert.equal(await status(token), 401, name);
    }
    const twice = await rawRequest(
      app.port,
      `GET /api/sessions HTTP/1.1\r\nHost: x\r\nx-amzn-oidc-data: ${good}\r\nX-Amzn-Oidc-Data: ${albToken({ payload: { sub: 'admin' } })}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(twice.status, 401);
    assert.equal(agent.requests.length, before);
  });

  test('an unknown kid is fetched once, not per request; a non-string alg is 401, not 500', async () => {
    const kid = 'forged-kid-0001';
    const before = keyServer.requests.filter((r) => r.url === `/${kid}`).length;
    const statuses = await Promise.all(Array.from({ length: 5 }, () => status(albToken({ kid }))));
    assert.deepEqual(statuses, Array(5).fill(401));
    for (let i = 0; i < 5; i++) assert.equal(await status(albToken({ kid })), 401);
    assert.equal(keyServer.requests.filter((r) => r.url === `/${kid}`).length - before, 1);
    for (const alg of [7, { a: 1 }, ['ES256'], null]) {
      assert.equal(await status(albToken({ header: { alg } })), 401, JSON.stringify(alg));
    }
  });

  test('requests waiting for a key fetch are answered once it is in, and the app serves others meanwhile', async () => {
    const started = Date.now();
    const waiting = Promise.all(
      Array.from({ length: 3 }, () =>
        fetch(`${app.url}/api/me`, {
          headers: { 'x-amzn-oidc-data': albToken({ kid: SLOW_KID, key: slowKeys.privateKey, payload: { sub: 'waiter' } }) },
        }),
      ),
    );
    // The fetch does not hold an event loop: others are answered while it runs.
    assert.equal(await status(albToken()), 200);
    assert.ok(Date.now() - started < 1200, `another request waited ${Date.now() - started} ms`);
    for (const r of await waiting) {
      assert.equal(r.status, 200);
      assert.equal((await r.json()).user_id, 'waiter');
    }
    assert.equal(keyServer.requests.filter((r) => r.url === `/${SLOW_KID}`).length, 1);
  });

  test('alb-oidc without a signer ARN or keys stops the app at start', async () => {
    const noArn = await runAppExpectingExit({ APP_AUTH: 'alb-oidc', APP_OIDC_KEYS_DIR: dir });
    assert.equal(noArn.code, 2);
    assert.match(noArn.output, /APP_OIDC_SIGNER_ARN/);
    const noKeys = await runAppExpectingExit({ APP_AUTH: 'alb-oidc', APP_OIDC_SIGNER_ARN: SIGNER });
    assert.equal(noKeys.code, 2);
    assert.match(noKeys.output, /APP_OIDC_KEYS_DIR/);
  });
});
