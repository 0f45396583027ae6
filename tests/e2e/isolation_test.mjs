// Hostile users through the edge: a forged X-User-Id never reaches the agent as an identity, and
// one user can neither read, change nor subscribe to another user's session.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { ProductionLikeStack } from './lib/production_like_stack.mjs';
import { ProductUser, turnProblems, turnUpdates } from './lib/product_user.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// An HS256 JWT signed with a key of our own: what an attacker can make without the hub's key.
function forgedSubscriberCookie(userTopic) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const header = b64({ alg: 'HS256', typ: 'JWT' });
  const payload = b64({ mercure: { subscribe: [userTopic, '*'] }, exp: Math.floor(Date.now() / 1000) + 600 });
  const signature = createHmac('sha256', randomBytes(32)).update(`${header}.${payload}`).digest('base64url');
  return `mercureAuthorization=${header}.${payload}.${signature}`;
}

describe('one user cannot reach another user\'s data', () => {
  let stack;
  let alice;
  let bob;
  let aliceSession;

  before(async () => {
    stack = await ProductionLikeStack.start({ appAuth: 'token', model: 'demo' });
    alice = new ProductUser(stack, 'alice');
    bob = new ProductUser(stack, 'bob');
    await alice.signIn();
    await bob.signIn();
    aliceSession = await alice.createSession();
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  test('a forged X-User-Id from the client is replaced by the signed-in user', async () => {
    const res = await alice.api('POST', '/sessions', { body: {}, headers: { 'X-User-Id': 'bob' } });
    assert.equal(res.status, 201, res.body);
    const forged = res.json.id;
    // The agent filed it under alice: the app sent alice, not the forged bob.
    const asAlice = await stack.agentApi('GET', `/v1/sessions/${forged}`, { user: 'alice' });
    assert.equal(asAlice.status, 200, asAlice.body);
    const asBob = await stack.agentApi('GET', `/v1/sessions/${forged}`, { user: 'bob' });
    assert.equal(asBob.status, 404, asBob.body);
    const bobList = await bob.listSessions();
    assert.equal(bobList.status, 200);
    assert.ok(!JSON.stringify(bobList.json).includes(forged), 'the session is not in bob\'s list');
  });

  test('X-User-Id without credentials is refused by the app and never reaches the agent', async () => {
    const requestId = `e2e-forged-${randomBytes(6).toString('hex')}`;
    const res = await alice.edge.request('GET', '/api/sessions', {
      headers: { 'X-User-Id': 'alice', 'X-Request-Id': requestId, Origin: stack.edgeUrl },
    });
    assert.equal(res.status, 401, res.body);
    await sleep(200);
    assert.deepEqual(stack.logLinesWithRequestId('agent', requestId), []);
  });

  test('bob gets 404 for every operation on alice\'s session, and it stays as it was', async () => {
    const id = encodeURIComponent(aliceSession.id);
    const attempts = [
      ['GET', `/sessions/${id}`, undefined],
      ['PATCH', `/sessions/${id}`, { title: 'taken over' }],
      ['POST', `/sessions/${id}/messages`, { text: 'hello from bob' }],
      ['POST', `/sessions/${id}/cancel`, {}],
      ['DELETE', `/sessions/${id}`, undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await bob.api(method, path, { body });
      assert.equal(res.status, 404, `${method} ${path} as bob -> ${res.status} ${res.body}`);
    }
    const still = await alice.getSession(aliceSession.id);
    assert.equal(still.status, 200);
    assert.equal(still.json.title, aliceSession.title);
    const messages = still.json.messages || [];
    assert.ok(!JSON.stringify(messages).includes('hello from bob'), 'bob\'s message was not stored');
  });

  test('bob\'s subscription to alice\'s topic receives nothing of alice\'s turn; alice\'s does', async (t) => {
    const topic = alice.topicOf(aliceSession.id);
    const aliceStream = await alice.subscribe(topic);
    assert.equal(aliceStream.status, 200);
    const bobStream = await bob.subscribe(topic).catch((err) => ({ status: 0, error: err }));
    const anonymous = await alice.subscribe(topic, { cookie: null }).catch((err) => ({ status: 0, error: err }));
    const forged = await alice.subscribe(topic, { cookie: forgedSubscriberCookie(topic) }).catch((err) => ({ status: 0, error: err }));
    try {
      const sent = await alice.sendMessage(aliceSession.id, 'Say hello in one short sentence.');
      assert.equal(sent.status, 202, sent.body);
      const turnId = sent.json.turn_id;
      await aliceStream.waitFor((events) => turnUpdates(events).some((u) => u.data.turn_id === turnId && u.data.type === 'turn.done'), 60_000);
      assert.deepEqual(turnProblems(turnUpdates(aliceStream.events), turnId), []);
      // Give any wrongly delivered update time to arrive.
      await sleep(500);
      for (const [who, stream] of [['bob', bobStream], ['anonymous', anonymous], ['forged cookie', forged]]) {
        t.diagnostic(`${who}: status ${stream.status}, ${stream.events ? stream.events.length : 0} events`);
        if (stream.status === 200) {
          assert.deepEqual(stream.events, [], `${who} received updates`);
        } else {
          assert.ok([0, 401, 403].includes(stream.status), `${who}: status ${stream.status}`);
        }
      }
    } finally {
      for (const s of [aliceStream, bobStream, anonymous, forged]) if (s && s.close) s.close();
    }
  });
});
