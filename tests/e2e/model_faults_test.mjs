// Bedrock's own faults, with the fake Bedrock as the model (it checks SigV4 and streams real
// event-stream frames): throttling that the agent's retries absorb, and throttling past the
// retries, which ends the turn with a clear error while the next turn works again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ProductionLikeStack } from './lib/production_like_stack.mjs';
import { ProductUser, sendWhenFree, turnProblems, turnText, turnUpdates, waitForTurnEnd } from './lib/product_user.mjs';

function messageText(message) {
  return typeof message.text === 'string' ? message.text : '';
}

describe('Bedrock throttling through the real wire format', () => {
  let stack;
  let alice;

  before(async () => {
    stack = await ProductionLikeStack.start({ appAuth: 'token', model: 'fake-bedrock' });
    alice = new ProductUser(stack, 'alice');
    await alice.signIn();
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  test('Bedrock throttles twice and recovers: the turn completes with the answer, after retries', async () => {
    await stack.resetModel();
    const session = await alice.createSession();
    const stream = await alice.subscribe(alice.topicOf(session.id));
    try {
      const throttle = { kind: 'error', status: 429, error_type: 'ThrottlingException', message: 'Rate exceeded' };
      await stack.scriptModel([throttle, throttle, { kind: 'text', text: 'Recovered answer.', stop_reason: 'end_turn' }]);
      const sent = await alice.sendMessage(session.id, 'Are you there?');
      assert.equal(sent.status, 202, sent.body);
      const updates = await waitForTurnEnd(stream, sent.json.turn_id);
      assert.deepEqual(turnProblems(turnUpdates(stream.events), sent.json.turn_id), []);
      assert.equal(updates[updates.length - 1].data.type, 'turn.done', JSON.stringify(updates.slice(-1)));
      assert.equal(turnText(updates, sent.json.turn_id), 'Recovered answer.');
      const calls = await stack.modelRequests();
      assert.equal(calls.length, 3, `three signed calls reached the model: ${JSON.stringify(calls.map((c) => c.path))}`);
      const stored = await alice.getSession(session.id);
      assert.ok((stored.json.messages || []).some((m) => m.role === 'assistant' && messageText(m) === 'Recovered answer.'));
    } finally {
      stream.close();
    }
  });

  test('Bedrock throttling past the retries: the turn ends with a clear error, and the next one works', async () => {
    await stack.resetModel();
    const session = await alice.createSession();
    const stream = await alice.subscribe(alice.topicOf(session.id));
    try {
      const throttle = { kind: 'error', status: 429, error_type: 'ThrottlingException', message: 'Rate exceeded' };
      await stack.scriptModel(Array.from({ length: 10 }, () => throttle));
      const sent = await alice.sendMessage(session.id, 'Busy?');
      assert.equal(sent.status, 202, sent.body);
      const updates = await waitForTurnEnd(stream, sent.json.turn_id);
      const end = updates[updates.length - 1].data;
      assert.equal(end.type, 'turn.error', JSON.stringify(end));
      assert.ok(end.code && end.message, `code and message: ${JSON.stringify(end)}`);
      await stack.resetModel();
      const next = await sendWhenFree(alice, session.id, 'And now?');
      const nextUpdates = await waitForTurnEnd(stream, next.json.turn_id);
      assert.equal(nextUpdates[nextUpdates.length - 1].data.type, 'turn.done');
    } finally {
      stream.close();
    }
  });

});
