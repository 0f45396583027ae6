// The agent's HTTP API end to end: the real executable over real sockets, against the store named
// by AGENT_TEST_STORE (sqlite or dynamodb; dynamodb runs against a real dynalite).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startAgent, startDynalite, startHub, storeEnv, apiClient, scratchDir, sleep, forgedCursor } from './agent_process.mjs';

// Text cut short is a non-empty beginning of the demo answer.
const isDemoAnswerStart = (text) => text.length > 0 &&
  (text.startsWith('## Demo answer') || '## Demo answer'.startsWith(text));

const kind = process.env.AGENT_TEST_STORE ?? 'sqlite';
let dir;
let dynalite;
let agent;
let table;
const settings = () => storeEnv(kind, { dir, dynalite, table });

before(async () => {
  dir = scratchDir();
  if (kind === 'dynamodb') {
    dynalite = await startDynalite();
    table = `agent-api-${Date.now()}`;
  }
  agent = await startAgent({ ...settings(), AGENT_MAX_MESSAGE_BYTES: '2000', AGENT_TURN_WORKERS: '4' });
});

after(async () => {
  await agent?.kill();
  await dynalite?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a request without a valid X-User-Id is refused with 401', async () => {
  const anonymous = apiClient(agent.url, undefined);
  const res = await anonymous.listSessions();
  assert.equal(res.status, 401);
  assert.equal(res.body.error.code, 'unauthorized');
  for (const bad of ['a/b', 'a#b', 'has space', '']) {
    const r = await apiClient(agent.url, bad).listSessions();
    assert.equal(r.status, 401, `user id ${JSON.stringify(bad)}`);
  }
});

test('sessions are created with 201 and listed newest first through opaque cursors', async () => {
  const api = apiClient(agent.url, 'lister');
  const created = [];
  for (let i = 0; i < 5; i += 1) {
    const res = await api.createSession(`chat ${i}`);
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.body).sort(), ['created_at', 'id', 'title', 'updated_at']);
    assert.equal(res.body.title, `chat ${i}`);
    assert.match(res.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    created.push(res.body.id);
    await sleep(3);
  }
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const res = await api.listSessions(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.sessions.length <= 2);
    seen.push(...res.body.sessions.map((s) => s.id));
    cursor = res.body.next_cursor;
    pages += 1;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(seen, [...created].reverse());

  const untitled = await api.createSession();
  assert.equal(untitled.body.title, 'New chat');
});

test('bad input is a 400 naming the field', async () => {
  const api = apiClient(agent.url, 'validator');
  let res = await api.listSessions('?limit=0');
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /^limit: /);
  res = await api.listSessions('?cursor=garbage!!');
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /^cursor: /);
  res = await api.call('POST', '/v1/sessions', { title: 42 });
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /^title: /);
  const { body: session } = await api.createSession('v');
  res = await api.call('POST', `/v1/sessions/${session.id}/messages`, { txt: 'hello' });
  assert.equal(res.status, 400);
  assert.equal(res.body.error.message, 'text: is required');
  res = await api.send(session.id, '   ');
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /^text: /);
  res = await api.rename(session.id, '');
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /^title: /);
  res = await api.call('POST', `/v1/sessions/${session.id}/messages`, '{"text": ');
  assert.equal(res.status, 400);
});

test('a forged cursor whose fields have the wrong type is a 400 naming cursor, not a 500', async () => {
  const api = apiClient(agent.url, 'forger');
  const { body: session } = await api.createSession('forged');
  for (const position of [{ before: 1 }, { before: ['x'] }, { before: 'not-a-session-id' }]) {
    const res = await api.listSessions(`?cursor=${forgedCursor(position)}`);
    assert.equal(res.status, 400, JSON.stringify(position));
    assert.equal(res.body.error.code, 'invalid_request');
    assert.match(res.body.error.message, /^cursor: /);
  }
  for (const position of [{ after: 'x' }, { after: 1.5 }, { after: -3 }, { after: { n: 1 } }]) {
    const res = await api.getSession(session.id, `?cursor=${forgedCursor(position)}`);
    assert.equal(res.status, 400, JSON.stringify(position));
    assert.match(res.body.error.message, /^cursor: /);
  }
});

test('a message over the size limit is refused with 413 and nothing is stored', async () => {
  const api = apiClient(agent.url, 'verbose');
  const { body: session } = await api.createSession('big');
  const res = await api.send(session.id, 'x'.repeat(2001));
  assert.equal(res.status, 413);
  assert.match(res.body.error.message, /^text: /);
  const got = await api.getSession(session.id);
  assert.deepEqual(got.body.messages, []);
});

test("another user's session is a 404 everywhere and never shows its data", async () => {
  const alice = apiClient(agent.url, 'alice');
  const mallory = apiClient(agent.url, 'mallory');
  const { body: session } = await alice.createSession('alice private');
  await alice.send(session.id, 'my secret plan');
  await alice.waitForTurn(session.id);
  for (const res of [
    await mallory.getSession(session.id),
    await mallory.rename(session.id, 'mine now'),
    await mallory.send(session.id, 'hello?'),
    await mallory.cancel(session.id),
    await mallory.remove(session.id),
  ]) {
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'not_found');
    assert.doesNotMatch(JSON.stringify(res.body), /secret|alice private/);
  }
  const list = await mallory.listSessions();
  assert.equal(list.body.sessions.length, 0);
  const still = await alice.getSession(session.id);
  assert.equal(still.body.title, 'alice private');
  assert.equal(still.body.messages.length, 2);
});

test('a turn runs the demo model to completion and the history shows everything the UI needs', async () => {
  const api = apiClient(agent.url, 'chatter');
  const { body: session } = await api.createSession('demo');
  const res = await api.send(session.id, 'Show me an example');
  assert.equal(res.status, 202);
  assert.match(res.body.turn_id, /^t_[0-9a-f]+$/);
  const done = await api.waitForTurn(session.id);
  assert.equal(done.messages.length, 2);
  const [user, assistant] = done.messages;
  assert.equal(user.role, 'user');
  assert.equal(user.text, 'Show me an example');
  assert.equal(user.turn_id, res.body.turn_id);
  assert.equal(assistant.role, 'assistant');
  assert.equal(assistant.status, 'complete');
  assert.equal(assistant.stop_reason, 'end_turn');
  assert.equal(assistant.error, null);
  assert.match(assistant.text, /```python\n/);
  assert.ok(assistant.usage.input_tokens > 0 && assistant.usage.output_tokens > 0);
  assert.match(assistant.created_at, /Z$/);

  await api.send(session.id, 'What time is it now?');
  const timed = await api.waitForTurn(session.id);
  const last = timed.messages.at(-1);
  const call = last.content.find((b) => b.type === 'tool_call');
  assert.equal(call.name, 'current_time');
  assert.equal(call.is_error, false);
  assert.match(call.output, /^\d{4}-\d\d-\d\dT/);
  assert.ok(last.text.includes(call.output));
});

test('messages are paginated oldest first', async () => {
  const api = apiClient(agent.url, 'pager');
  const { body: session } = await api.createSession('pages');
  for (const text of ['one', 'two']) {
    await api.send(session.id, text);
    await api.waitForTurn(session.id);
  }
  const seqs = [];
  let cursor = null;
  do {
    const res = await api.getSession(session.id, `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200);
    seqs.push(...res.body.messages.map((m) => m.seq));
    cursor = res.body.next_cursor;
  } while (cursor);
  assert.deepEqual(seqs, [1, 2, 3, 4]);
});

test('two POSTs to one session at once: one turn runs, the other gets 409', async () => {
  const api = apiClient(agent.url, 'racer');
  const { body: session } = await api.createSession('race');
  const results = await Promise.all([api.send(session.id, 'first'), api.send(session.id, 'second')]);
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [202, 409]);
  assert.equal(results.find((r) => r.status === 409).body.error.code, 'turn_running');
  const done = await api.waitForTurn(session.id);
  assert.equal(done.messages.length, 2);
  const again = await api.send(session.id, 'third');
  assert.equal(again.status, 202);
  await api.waitForTurn(session.id);
});

test('many sessions run turns at once and all complete', async () => {
  const users = Array.from({ length: 4 }, (_, i) => apiClient(agent.url, `crowd${i}`));
  const sessions = [];
  for (const api of users) {
    for (let j = 0; j < 3; j += 1) sessions.push({ api, id: (await api.createSession(`s${j}`)).body.id });
  }
  const posts = await Promise.all(sessions.map(({ api, id }) => api.send(id, `hello from ${id}`)));
  assert.deepEqual(posts.map((p) => p.status), sessions.map(() => 202));
  const results = await Promise.all(sessions.map(({ api, id }) => api.waitForTurn(id, 60000)));
  for (const [i, r] of results.entries()) {
    assert.equal(r.messages.length, 2);
    assert.equal(r.messages[1].status, 'complete');
    assert.ok(r.messages[1].text.includes(`hello from ${sessions[i].id}`));
  }
});

test('with no queue, idle workers still take turns; a turn refused with 503 stores nothing', async () => {
  const tight = await startAgent({ ...settings(), AGENT_TURN_WORKERS: '2', AGENT_TURN_QUEUE: '0', AGENT_DEMO_DELAY: '40ms' });
  try {
    const api = apiClient(tight.url, 'burster');
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await api.createSession(`b${i}`)).body.id);
    // A burst as big as the pool: every turn has an idle worker.
    const burst = await Promise.all(ids.slice(0, 2).map((id) => api.send(id, 'go')));
    assert.deepEqual(burst.map((r) => r.status), [202, 202]);
    const refused = await api.send(ids[2], 'one too many');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'busy');
    assert.deepEqual((await api.getSession(ids[2])).body.messages, []);
    for (const id of ids.slice(0, 2)) await api.waitForTurn(id, 60000);
    // Workers free again: the refused session takes a turn, with nothing left over from before.
    assert.equal((await api.send(ids[2], 'now')).status, 202);
    const done = await api.waitForTurn(ids[2], 60000);
    assert.deepEqual(done.messages.map((m) => m.role), ['user', 'assistant']);
    assert.equal(done.messages[0].text, 'now');
  } finally {
    await tight.kill();
  }
});

test('a turn past AGENT_TURN_DEADLINE ends as an error with deadline_exceeded and keeps its text', async () => {
  const hurried = await startAgent({ ...settings(), AGENT_TURN_DEADLINE: '400ms', AGENT_DEMO_DELAY: '50ms',
    AGENT_PERSIST_INTERVAL: '0ms' });
  try {
    const api = apiClient(hurried.url, 'hurried');
    const { body: session } = await api.createSession('late');
    const started = Date.now();
    assert.equal((await api.send(session.id, 'Tell me everything')).status, 202);
    const done = await api.waitForTurn(session.id, 10000);
    assert.ok(Date.now() - started < 5000);
    const assistant = done.messages[1];
    assert.equal(assistant.status, 'error');
    assert.equal(assistant.error.code, 'deadline_exceeded');
    assert.ok(isDemoAnswerStart(assistant.text) && !assistant.text.includes('bedrock'), assistant.text);
  } finally {
    await hurried.kill();
  }
});

test('cancel stops the running turn and keeps what it produced', async () => {
  const slow = await startAgent({ ...settings(), AGENT_DEMO_DELAY: '40ms' });
  try {
    const api = apiClient(slow.url, 'canceller');
    const { body: session } = await api.createSession('stop me');
    const started = await api.send(session.id, 'Tell me everything');
    assert.equal(started.status, 202);
    await api.waitForPartialText(session.id);
    const res = await api.cancel(session.id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { cancelled: true, turn_id: started.body.turn_id });
    const done = await api.waitForTurn(session.id);
    const assistant = done.messages[1];
    assert.equal(assistant.status, 'cancelled');
    assert.ok(isDemoAnswerStart(assistant.text), assistant.text);
    assert.ok(!assistant.text.includes('bedrock'), 'the answer should have been cut short');
    const idle = await api.cancel(session.id);
    assert.deepEqual(idle.body, { cancelled: false, turn_id: null });
  } finally {
    await slow.kill();
  }
});

test('delete removes the session and its messages', async () => {
  const api = apiClient(agent.url, 'deleter');
  const { body: session } = await api.createSession('bye');
  await api.send(session.id, 'hi');
  await api.waitForTurn(session.id);
  const res = await api.remove(session.id);
  assert.equal(res.status, 204);
  assert.equal((await api.getSession(session.id)).status, 404);
  assert.equal((await api.remove(session.id)).status, 404);
  assert.equal((await api.send(session.id, 'again')).status, 404);
  const list = await api.listSessions();
  assert.ok(!list.body.sessions.some((s) => s.id === session.id));
});

test('PATCH renames a session', async () => {
  const api = apiClient(agent.url, 'renamer');
  const { body: session } = await api.createSession('old');
  const res = await api.rename(session.id, 'Trip to Lisbon');
  assert.equal(res.status, 200);
  assert.equal(res.body.title, 'Trip to Lisbon');
  assert.equal(res.body.id, session.id);
  assert.equal((await api.getSession(session.id)).body.title, 'Trip to Lisbon');
});

test('/readyz reports the store and the hub, /metrics the turn engine', async () => {
  const ready = await fetch(`${agent.url}/readyz`);
  const body = await ready.json();
  assert.equal(ready.status, 503);  // no hub runs for this agent
  assert.equal(body.checks.store, 'ok');
  assert.match(body.checks.hub, /unreachable/);
  const metrics = await (await fetch(`${agent.url}/metrics`)).text();
  for (const name of ['agent_turns_total{status="complete"}', 'agent_tokens_total{direction="in"}',
    'agent_tokens_total{direction="out"}', 'agent_tool_calls_total{outcome="ok",tool="current_time"}',
    'agent_model_latency_seconds_count', 'agent_model_time_to_first_token_seconds_count',
    'agent_store_latency_seconds_count{operation="append_message"}', 'agent_publish_backlog']) {
    assert.ok(metrics.includes(name), `metrics lack ${name}`);
  }
  const value = (series) => {
    const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `metrics lack ${series}`);
    return Number(line.slice(series.length + 1));
  };
  assert.equal(value('agent_turns_running'), 0, 'every turn of this agent has ended');
  // Turns are bounded by the 5 min deadline, and so are the buckets.
  const turns = value('agent_turn_duration_seconds_count');
  assert.ok(turns >= 5);
  assert.ok(value('agent_turn_duration_seconds_bucket{le="60"}') <= turns);
  assert.equal(value('agent_turn_duration_seconds_bucket{le="300"}'), turns);
  assert.ok(!metrics.includes('agent_turn_duration_seconds_bucket{le="600"}'));
  assert.ok(value('agent_tool_latency_seconds_count{tool="current_time"}') >= 1);
  assert.equal(value('agent_store_errors_total{operation="append_message"}'), 0);
  assert.equal(value('agent_store_errors_total{operation="renew_turn_lock"}'), 0);
  // The hub of this agent is unreachable: attempts fail and are retried, none is accepted, and
  // nothing was dropped (the backlog is far from full, and no hub refused anything).
  assert.equal(value('agent_publish_total'), 0);
  assert.ok(value('agent_publish_failures_total') > 0);
  assert.equal(value('agent_publish_dropped_total{reason="backlog_full"}'), 0);
  assert.equal(value('agent_publish_dropped_total{reason="rejected"}'), 0);
});

test('/readyz is 200 when the store and the hub answer, and /metrics counts what the hub accepted', async () => {
  const hub = await startHub();
  const wired = await startAgent({ ...settings(), AGENT_HUB_URL: hub.hubUrl });
  try {
    const ready = await fetch(`${wired.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { store: 'ok', hub: 'ok', turns: 'ok' } });
    const api = apiClient(wired.url, 'ready-user');
    const { body: session } = await api.createSession('ready');
    await api.send(session.id, 'hello');
    await api.waitForTurn(session.id);
    let metrics = '';
    for (let i = 0; i < 100 && !/^agent_publish_total [1-9]/m.test(metrics); i += 1) {
      await sleep(50);
      metrics = await (await fetch(`${wired.url}/metrics`)).text();
    }
    assert.match(metrics, /^agent_publish_total [1-9]/m);
  } finally {
    await wired.kill();
    await hub.stop();
  }
});

test('killed mid-turn and restarted: history intact, the turn marked interrupted', async () => {
  const env = { ...settings(), AGENT_DEMO_DELAY: '50ms', AGENT_INSTANCE_ID: 'restart-test' };
  const first = await startAgent(env);
  const api1 = apiClient(first.url, 'survivor');
  const { body: session } = await api1.createSession('crash');
  await api1.send(session.id, 'short one');
  await api1.waitForTurn(session.id, 60000);
  const started = await api1.send(session.id, 'Explain everything');
  assert.equal(started.status, 202);
  await api1.waitForPartialText(session.id);
  await first.kill();

  const second = await startAgent(env);
  try {
    const api2 = apiClient(second.url, 'survivor');
    const res = await api2.getSession(session.id);
    assert.equal(res.status, 200);
    const m = res.body.messages;
    assert.equal(m.length, 4);
    assert.equal(m[0].text, 'short one');
    assert.equal(m[1].status, 'complete');
    assert.equal(m[2].text, 'Explain everything');
    assert.equal(m[3].turn_id, started.body.turn_id);
    assert.equal(m[3].status, 'interrupted');
    assert.equal(m[3].error.code, 'interrupted');
    assert.ok(isDemoAnswerStart(m[3].text), `partial text kept: ${m[3].text}`);
    const next = await api2.send(session.id, 'are you back?');
    assert.equal(next.status, 202);
    const done = await api2.waitForTurn(session.id, 60000);
    assert.equal(done.messages.at(-1).status, 'complete');
  } finally {
    await second.kill();
  }
});

test('SIGTERM mid-turn: the agent exits cleanly and the turn is marked interrupted, not lost', async () => {
  const env = { ...settings(), AGENT_DEMO_DELAY: '50ms', AGENT_SHUTDOWN_GRACE: '200ms',
    AGENT_INSTANCE_ID: 'sigterm-test', AGENT_PUBLISH_DRAIN_TIMEOUT: '100ms' };
  const first = await startAgent(env);
  const api1 = apiClient(first.url, 'graceful');
  const { body: session } = await api1.createSession('term');
  await api1.send(session.id, 'Explain everything');
  await api1.waitForPartialText(session.id);
  const exit = await first.stop();
  assert.equal(exit.code, 0, first.output.join(''));
  assert.match(first.output.join(''), /interrupting turns still running at shutdown/);

  const second = await startAgent({ ...env, AGENT_INSTANCE_ID: 'another-instance' });
  try {
    const res = await apiClient(second.url, 'graceful').getSession(session.id);
    const assistant = res.body.messages[1];
    assert.equal(assistant.status, 'interrupted');
    assert.ok(assistant.text.length > 0);
  } finally {
    await second.kill();
  }
});

test('SIGTERM: during the grace new turns get 503, cancel still works, and the agent exits within AGENT_DRAIN_TIMEOUT', async () => {
  const env = { ...settings(), AGENT_DEMO_DELAY: '100ms', AGENT_SHUTDOWN_GRACE: '6s', AGENT_DRAIN_TIMEOUT: '9s',
    AGENT_PUBLISH_DRAIN_TIMEOUT: '1s', AGENT_INSTANCE_ID: 'grace-test' };
  const first = await startAgent(env);
  const api = apiClient(first.url, 'gracious');
  const { body: running } = await api.createSession('running');
  const { body: idle } = await api.createSession('idle');
  const started = await api.send(running.id, 'Explain everything');
  await api.waitForPartialText(running.id);
  const stoppedAt = Date.now();
  first.terminate();
  await sleep(300);
  const ready = await fetch(`${first.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.match((await ready.json()).checks.turns, /shutting down/);
  const refused = await api.send(idle.id, 'too late');
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error.code, 'shutting_down');
  const cancel = await api.cancel(running.id);
  assert.deepEqual(cancel.body, { cancelled: true, turn_id: started.body.turn_id });
  const exit = await first.exited;
  assert.equal(exit.code, 0, first.output.join(''));
  // The cancel ended the last turn: the agent did not wait out the grace.
  assert.ok(Date.now() - stoppedAt < 6000, `stopped after ${Date.now() - stoppedAt} ms`);
  assert.doesNotMatch(first.output.join(''), /interrupting turns/);

  const second = await startAgent({ ...env, AGENT_INSTANCE_ID: 'grace-test-2' });
  try {
    const res = await apiClient(second.url, 'gracious').getSession(running.id);
    assert.equal(res.body.messages[1].status, 'cancelled');
    assert.ok(res.body.messages[1].text.length > 0);
    assert.deepEqual((await apiClient(second.url, 'gracious').getSession(idle.id)).body.messages, []);
  } finally {
    await second.kill();
  }
});
