// Tool approval: with AGENT_TOOLS_REQUIRE_APPROVAL naming a tool, a turn that calls it publishes
// tool.approval, keeps the call pending in the stored message, and waits for
// POST /v1/sessions/{id}/approvals/{call_id} {"approved": bool}. The real agent (demo model,
// which calls current_time when asked the time) and the real sse_hub over real sockets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startAgent, startDynalite, startHub, storeEnv, apiClient, scratchDir, subscribe,
  subscriberToken } from './agent_process.mjs';

const kind = process.env.AGENT_TEST_STORE ?? 'sqlite';
let dir;
let dynalite;
let hub;
let agent;
let table;
const stops = [];
const settings = () => ({ ...storeEnv(kind, { dir, dynalite, table }), AGENT_HUB_URL: hub.hubUrl,
  AGENT_TOOLS_REQUIRE_APPROVAL: 'current_time', AGENT_DEMO_DELAY: '2ms' });

before(async () => {
  dir = scratchDir();
  if (kind === 'dynamodb') {
    dynalite = await startDynalite();
    table = `agent-approvals-${Date.now()}`;
  }
  hub = await startHub();
  agent = await startAgent(settings());
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
  await agent?.kill();
  await hub?.stop();
  await dynalite?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Asks the time in a new session and waits for the approval request; returns what it saw.
async function askTheTime(user, base = agent.url) {
  const api = apiClient(base, user);
  const { body: session } = await api.createSession('clock');
  const watcher = subscribe(hub.hubUrl, `/users/${user}/sessions/${session.id}`, subscriberToken(user));
  stops.push(async () => watcher.close());
  await watcher.opened;
  const started = await api.send(session.id, 'What time is it?');
  assert.equal(started.status, 202);
  const asked = await watcher.until((e) => e.data.type === 'tool.approval', 15000);
  return { api, session, watcher, turnId: started.body.turn_id, asked: asked.data };
}

const lastToolCall = (body) => body.messages.at(-1).content.find((b) => b.type === 'tool_call');

test('a tool that needs approval waits: tool.approval is published, the call is stored pending, and an approval runs it', async () => {
  const { api, session, watcher, turnId, asked } = await askTheTime('approver');
  assert.equal(asked.turn_id, turnId);
  assert.equal(asked.name, 'current_time');
  assert.deepEqual(asked.input, {});
  assert.ok(Number.isInteger(asked.seq) && asked.seq > 1);
  assert.ok(asked.call_id);
  const call = watcher.events.find((e) => e.data.type === 'tool.call').data;
  assert.equal(call.call_id, asked.call_id);
  assert.ok(call.seq < asked.seq, 'the call is announced before the approval is asked');

  // A reload shows it: the stored message has the call, pending, without a result.
  const pending = await api.getSession(session.id);
  assert.equal(pending.body.messages.at(-1).status, 'running');
  const stored = lastToolCall(pending.body);
  assert.equal(stored.call_id, asked.call_id);
  assert.equal(stored.approval, 'pending');
  assert.ok(!('output' in stored));

  // Someone else cannot answer it, and a malformed answer is refused.
  const mallory = apiClient(agent.url, 'mallory');
  assert.equal((await mallory.approve(session.id, asked.call_id, { approved: true })).status, 404);
  let res = await api.approve(session.id, asked.call_id, { approved: 'yes' });
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /^approved: /);
  res = await api.approve(session.id, asked.call_id, {});
  assert.equal(res.status, 400);
  assert.equal((await api.approve(session.id, 'no_such_call', { approved: true })).status, 404);

  res = await api.approve(session.id, asked.call_id, { approved: true });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { call_id: asked.call_id, approved: true });
  const done = await api.waitForTurn(session.id);
  const ran = lastToolCall(done);
  assert.equal(ran.approval, 'approved');
  assert.equal(ran.is_error, false);
  assert.match(ran.output, /^\d{4}-\d\d-\d\dT/);
  assert.equal(done.messages.at(-1).status, 'complete');
  const result = await watcher.until((e) => e.data.type === 'tool.result');
  assert.equal(result.data.is_error, false);

  // Decided and finished: a second answer is a conflict, not a new decision.
  res = await api.approve(session.id, asked.call_id, { approved: false });
  assert.equal(res.status, 409);
  assert.equal(res.body.error.code, 'approval_closed');
});

test('a denied call goes back to the model as an error result and the turn completes', async () => {
  const { api, session, asked } = await askTheTime('denier');
  const res = await api.approve(session.id, asked.call_id, { approved: false });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { call_id: asked.call_id, approved: false });
  const done = await api.waitForTurn(session.id);
  const denied = lastToolCall(done);
  assert.equal(denied.approval, 'denied');
  assert.equal(denied.is_error, true);
  assert.equal(denied.output, 'denied by the user');
  const assistant = done.messages.at(-1);
  assert.equal(assistant.status, 'complete');
  assert.match(assistant.text, /denied by the user/);
});

test('an approval that does not come in time is an "approval timed out" error result', async () => {
  const impatient = await startAgent({ ...settings(), AGENT_TOOL_APPROVAL_TIMEOUT: '500ms' });
  stops.push(impatient.kill);
  const { api, session, asked } = await askTheTime('sleeper', impatient.url);
  const done = await api.waitForTurn(session.id, 10000);
  const call = lastToolCall(done);
  assert.equal(call.approval, 'timed_out');
  assert.equal(call.is_error, true);
  assert.equal(call.output, 'approval timed out');
  assert.equal(done.messages.at(-1).status, 'complete');
  const late = await api.approve(session.id, asked.call_id, { approved: true });
  assert.equal(late.status, 409);
});

test('stop while a call waits for approval ends the turn cancelled', async () => {
  const { api, session, watcher, turnId } = await askTheTime('quitter');
  const res = await api.cancel(session.id);
  assert.deepEqual(res.body, { cancelled: true, turn_id: turnId });
  const done = await api.waitForTurn(session.id, 10000);
  assert.equal(done.messages.at(-1).status, 'cancelled');
  assert.equal(lastToolCall(done).approval, 'cancelled');
  await watcher.until((e) => e.data.type === 'turn.done' && e.data.stop_reason === 'cancelled');
});
