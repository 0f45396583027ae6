// Faults in the running task, each followed by a check that nothing was lost: the agent killed
// mid-turn and restarted, the store frozen and the store down (refusing connections, then
// restarted on its data) for a few seconds, and SIGTERM to all three while a turn streams to a
// subscriber. Works with either model the stack runs (long answers come from
// a scripted fake Bedrock or from the demo model slowed down); Bedrock's own faults are in
// model_faults_test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ProductionLikeStack, TASK_PORTS } from './lib/production_like_stack.mjs';
import { ProductUser, sendWhenFree, turnProblems, turnText, turnUpdates, waitForTurnEnd } from './lib/product_user.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A long answer streamed slowly: about 4 s of text.delta updates, so that a fault lands mid-turn.
function slowAnswer(words = 120) {
  const text = Array.from({ length: words }, (_, i) => `word${i + 1}`).join(' ') + '.';
  return { text, response: { kind: 'text', text, chunking: 24, delay_ms: 35, stop_reason: 'end_turn' } };
}

async function scriptSlowAnswer(stack, words) {
  if (stack.model === 'fake-bedrock') await stack.scriptModel([slowAnswer(words).response]);
}

const FINAL_STATES = new Set(['complete', 'cancelled', 'interrupted', 'error']);

function messagesOf(session) {
  return session.messages || [];
}

function messageText(message) {
  if (typeof message.text === 'string') return message.text;
  if (Array.isArray(message.content)) return message.content.map((c) => c.text || '').join('');
  return '';
}

describe('faults in the task lose nothing', () => {
  let stack;
  let alice;

  before(async () => {
    stack = await ProductionLikeStack.start({ appAuth: 'token', model: 'demo', extraEnv: { agent: { AGENT_DEMO_DELAY: '60ms' } } });
    alice = new ProductUser(stack, 'alice');
    await alice.signIn();
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  test('agent killed mid-turn and restarted: the question is kept, the turn ends, the next turn completes', async () => {
    const session = await alice.createSession();
    const stream = await alice.subscribe(alice.topicOf(session.id));
    try {
      await scriptSlowAnswer(stack, 120);
      const sent = await alice.sendMessage(session.id, 'Count slowly, please.');
      assert.equal(sent.status, 202, sent.body);
      const turnId = sent.json.turn_id;
      await stream.waitFor((events) => turnUpdates(events).filter((u) => u.data.turn_id === turnId && u.data.type === 'text.delta').length >= 3, 20_000);

      const killed = await stack.stopComponent('agent', { signal: 'SIGKILL' });
      assert.equal(killed.signal, 'SIGKILL');
      await stack.startComponent('agent');

      // The user saw the answer streamed in order, seq 1..n, and then (from the restarted agent)
      // the end of the dead turn: turn.error "interrupted", with a seq past any the turn reached.
      const updates = await waitForTurnEnd(stream, turnId, 20_000);
      const end = updates[updates.length - 1].data;
      assert.equal(end.type, 'turn.error', JSON.stringify(end));
      assert.equal(end.code, 'interrupted');
      assert.ok(end.message, 'a message for the user');
      const before = updates.slice(0, -1).map((u) => u.data.seq);
      assert.deepEqual(before, before.map((_, i) => i + 1), 'seq 1..n before the crash');
      assert.ok(end.seq > before[before.length - 1], 'the end comes after everything streamed');
      const seen = turnText(updates, turnId);
      assert.ok(seen.length > 0);

      // The store still has the question; any stored part of the answer agrees with what was
      // streamed (one is a prefix of the other: they come from the same answer).
      const stored = await alice.getSession(session.id);
      assert.equal(stored.status, 200, stored.body);
      const messages = messagesOf(stored.json);
      const question = messages.find((m) => m.role === 'user');
      assert.ok(question, `the user's message was kept: ${stored.body.slice(0, 400)}`);
      assert.equal(messageText(question), 'Count slowly, please.');
      for (const m of messages.filter((x) => x.role === 'assistant')) {
        const kept = messageText(m);
        assert.ok(kept.startsWith(seen) || seen.startsWith(kept), `stored answer agrees with the stream: ${kept.slice(0, 80)} / ${seen.slice(0, 80)}`);
        assert.equal(m.status, 'interrupted', `the stored answer says it was cut: ${JSON.stringify(m).slice(0, 300)}`);
      }

      // The session is usable again: a new turn is accepted (the crashed one does not hold it
      // forever) and completes.
      const next = await sendWhenFree(alice, session.id, 'Are you back?');
      const nextUpdates = await waitForTurnEnd(stream, next.json.turn_id);
      assert.deepEqual(turnProblems(turnUpdates(stream.events), next.json.turn_id), []);
      assert.equal(nextUpdates[nextUpdates.length - 1].data.type, 'turn.done');
      const after = await alice.getSession(session.id);
      const texts = messagesOf(after.json).map(messageText);
      assert.ok(texts.includes('Are you back?'), 'the new question was stored');
    } finally {
      stream.close();
    }
  });

  // A message sent while the store is unreachable is all or nothing: either the turn's question
  // and its answer are both stored and the answer ends in a final state (whether the send
  // answered 202 or an error), or neither is stored. A created session either exists whole or not
  // at all. Then the session takes the next message.
  async function checkOutageOutcome(t, { session, stream, question, sent, created }) {
    t.diagnostic(`during the outage: send -> ${sent.status}, create -> ${created.status}`);
    for (const res of [sent, created]) {
      if (res.status >= 400) {
        assert.ok(res.status >= 500, `an outage is a server-side error, got ${res.status}: ${res.body}`);
        assert.equal(typeof res.json?.error?.code, 'string', `clear error: ${res.body}`);
        assert.equal(typeof res.json?.error?.message, 'string');
      }
    }
    if (sent.status === 202) {
      const updates = await waitForTurnEnd(stream, sent.json.turn_id);
      const end = updates[updates.length - 1].data;
      t.diagnostic(`the turn sent during the outage ended with ${end.type} ${end.code || ''}`);
      if (end.type === 'turn.error') assert.ok(end.code && end.message, `turn.error carries code and message: ${JSON.stringify(end)}`);
    }
    // What the store holds of that question, once its turn (if any) had time to end.
    let messages = [];
    for (const deadline = Date.now() + 15_000; ;) {
      const one = await alice.getSession(session.id);
      assert.equal(one.status, 200, one.body);
      messages = messagesOf(one.json);
      const pending = messages.some((m) => m.role === 'assistant' && m.status === 'running');
      if (!pending || Date.now() > deadline) break;
      await sleep(250);
    }
    const asked = messages.filter((m) => m.role === 'user' && messageText(m) === question);
    if (sent.status === 202) assert.equal(asked.length, 1, 'an accepted message is stored');
    for (const q of asked) {
      const answer = messages.find((m) => m.role === 'assistant' && m.turn_id === q.turn_id);
      assert.ok(answer, `the question is stored without its answer (a half-written turn): ${JSON.stringify(messages).slice(0, 400)}`);
      assert.ok(FINAL_STATES.has(answer.status), `the stored answer is left ${answer.status}`);
    }
    t.diagnostic(`stored afterwards: ${asked.length ? 'the question and its answer' : 'neither the question nor an answer'}`);
    if (sent.status !== 202) {
      const running = messages.filter((m) => m.role === 'assistant' && !FINAL_STATES.has(m.status));
      assert.deepEqual(running, [], 'no answer is left running after a refused send');
    }
    // Every session alice has is whole: listed ones can be read, and the one created during the
    // outage either exists completely or not at all.
    const list = await alice.listSessions();
    assert.equal(list.status, 200, list.body);
    const sessions = list.json.sessions || list.json.items || [];
    assert.ok(sessions.some((s) => s.id === session.id), 'the session the message went to is still there');
    for (const s of sessions) {
      const one = await alice.getSession(s.id);
      assert.equal(one.status, 200, `session ${s.id} readable: ${one.body}`);
      assert.equal(one.json.id, s.id);
    }
    if (created.status === 201) {
      assert.ok(sessions.some((s) => s.id === created.json.id), 'the session created during the outage is listed');
    }
    // And the session works again.
    const next = await sendWhenFree(alice, session.id, `After: ${question}`);
    const updates = await waitForTurnEnd(stream, next.json.turn_id);
    assert.equal(updates[updates.length - 1].data.type, 'turn.done', JSON.stringify(updates.slice(-1)));
  }

  test('store frozen (SIGSTOP) for a few seconds: turns end cleanly, nothing half-written', async (t) => {
    const session = await alice.createSession();
    const stream = await alice.subscribe(alice.topicOf(session.id));
    const question = 'Hello while the store is frozen';
    try {
      stack.processes.store.signal('SIGSTOP');
      const resumed = sleep(4000).then(() => stack.processes.store.signal('SIGCONT'));
      // Sent while the store is frozen (connections accepted by the kernel, never answered).
      const [sent, created] = await Promise.all([
        alice.sendMessage(session.id, question, { timeoutMs: 60_000 }),
        alice.api('POST', '/sessions', { body: {}, timeoutMs: 60_000 }),
      ]);
      await resumed;
      await checkOutageOutcome(t, { session, stream, question, sent, created });
    } finally {
      stack.processes.store.signal('SIGCONT');
      stream.close();
    }
  });

  test('store down (killed, connections refused) and restarted on the same data: nothing lost, nothing half-written', async (t) => {
    const session = await alice.createSession();
    const stream = await alice.subscribe(alice.topicOf(session.id));
    const question = 'Hello while the store is down';
    try {
      const earlier = await sendWhenFree(alice, session.id, 'Before the store goes down');
      await waitForTurnEnd(stream, earlier.json.turn_id);
      const before = await alice.getSession(session.id);
      const killed = await stack.stopComponent('store', { signal: 'SIGKILL' });
      assert.equal(killed.signal, 'SIGKILL');
      const down = await stack.insideHttp(`http://127.0.0.1:${TASK_PORTS.store}/`, { timeoutMs: 2000 });
      assert.equal(down.status, 0, 'the store port refuses connections');
      const [sent, created] = await Promise.all([
        alice.sendMessage(session.id, question, { timeoutMs: 60_000 }),
        alice.api('POST', '/sessions', { body: {}, timeoutMs: 60_000 }),
        sleep(3000),
      ]);
      // The same dynalite, on the same port, with the data it keeps on disk (--path).
      await stack.startComponent('store');
      const after = await alice.getSession(session.id);
      assert.equal(after.status, 200, `the session survived the store's restart: ${after.body}`);
      const kept = messagesOf(after.json).slice(0, messagesOf(before.json).length);
      assert.deepEqual(kept.map((m) => [m.role, messageText(m), m.status]),
        messagesOf(before.json).map((m) => [m.role, messageText(m), m.status]), 'everything stored before the outage is still there');
      await checkOutageOutcome(t, { session, stream, question, sent, created });
    } finally {
      if (!stack.processes.store.running) await stack.startComponent('store').catch(() => {});
      stream.close();
    }
  });

  test('SIGTERM to all three while a turn streams to a subscriber: each exits 0 inside the drain time, and the turn is not left running', async (t) => {
    const session = await alice.createSession();
    const stream = await alice.subscribe(alice.topicOf(session.id));
    let turnId;
    try {
      await scriptSlowAnswer(stack, 300);
      const sent = await alice.sendMessage(session.id, 'Talk for a while.');
      assert.equal(sent.status, 202, sent.body);
      turnId = sent.json.turn_id;
      await stream.waitFor((events) => turnUpdates(events).some((u) => u.data.type === 'text.delta'), 20_000);
      const drainMs = stack.drainMs;
      const results = await stack.terminateExecutables({ graceMs: drainMs + 5000 });
      for (const [name, r] of Object.entries(results)) {
        t.diagnostic(`${name}: exit ${r.code} after ${r.elapsedMs} ms`);
        assert.equal(r.killed, false, `${name} had to be killed`);
        assert.equal(r.code, 0, `${name} exit code ${r.code} signal ${r.signal}; log:\n${stack.processes[name].logTail()}`);
        assert.ok(r.elapsedMs < drainMs, `${name} took ${r.elapsedMs} ms`);
      }
    } finally {
      stream.close();
    }
    // The task comes back (a new one, as ECS would start): the turn is stored as ended, not
    // running, and the session takes a new message.
    for (const name of ['hub', 'agent', 'app']) await stack.startComponent(name);
    const stored = await alice.getSession(session.id);
    assert.equal(stored.status, 200, stored.body);
    const answer = messagesOf(stored.json).find((m) => m.role === 'assistant' && m.turn_id === turnId)
      || messagesOf(stored.json).find((m) => m.role === 'assistant');
    assert.ok(answer, `the partial answer was kept: ${stored.body.slice(0, 300)}`);
    assert.notEqual(answer.status, 'running', JSON.stringify(answer).slice(0, 300));
    const next = await sendWhenFree(alice, session.id, 'Still there?');
    assert.equal(next.status, 202);
  });
});
