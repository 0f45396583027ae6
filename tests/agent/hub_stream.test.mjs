// A turn's live updates as a browser sees them: the real agent publishes to the real sse_hub,
// and an EventSource subscriber with a subscriber JWT for the session's topic reads them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startAgent, startHub, apiClient, scratchDir, storeEnv, subscriberKey, hs256,
  subscribe as subscribeHub } from './agent_process.mjs';

const dir = scratchDir();
const stops = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Subscribes like agent_process's subscribe(), closed when the file's tests end.
function subscribe(hubUrl, topic, token, options) {
  const subscriber = subscribeHub(hubUrl, topic, token, options);
  stops.push(async () => subscriber.close());
  return subscriber;
}

test('a subscriber on the real sse_hub reads a whole turn, in order, coalesced, matching the store', async () => {
  const hub = await startHub();
  stops.push(hub.stop);
  const agent = await startAgent({ ...storeEnv('sqlite', { dir }), AGENT_HUB_URL: hub.hubUrl, AGENT_DEMO_DELAY: '3ms' });
  stops.push(agent.kill);
  const api = apiClient(agent.url, 'streamer');
  const { body: session } = await api.createSession('live');
  const topic = `/users/streamer/sessions/${session.id}`;
  const token = hs256({ mercure: { subscribe: ['/users/streamer/sessions/{session}'] },
    exp: Math.floor(Date.now() / 1000) + 600 }, subscriberKey);
  const watcher = subscribe(hub.hubUrl, topic, token);
  await watcher.opened;
  // Someone else's subscription to the same topic gets nothing: the updates are private.
  const intruderToken = hs256({ mercure: { subscribe: ['/users/intruder/sessions/{session}'] },
    exp: Math.floor(Date.now() / 1000) + 600 }, subscriberKey);
  const intruder = subscribe(hub.hubUrl, topic, intruderToken);
  await intruder.opened;

  const started = await api.send(session.id, 'What time is it?');
  assert.equal(started.status, 202);
  await watcher.until((e) => e.data.type === 'turn.done');
  const first = watcher.events.filter((e) => e.data.turn_id === started.body.turn_id).map((e) => e.data);
  assert.equal(first[0].type, 'turn.start');
  assert.equal(first.at(-1).type, 'turn.done');
  assert.equal(first.at(-1).stop_reason, 'end_turn');
  assert.deepEqual(first.map((d) => d.seq), first.map((_, i) => i + 1));
  const call = first.find((d) => d.type === 'tool.call');
  const result = first.find((d) => d.type === 'tool.result');
  assert.equal(call.name, 'current_time');
  assert.equal(result.call_id, call.call_id);
  assert.equal(result.is_error, false);
  assert.ok(first.some((d) => d.type === 'usage' && d.output_tokens > 0));

  // A long answer: the text deltas add up to the stored text and come in far fewer updates than
  // words.
  const second = await api.send(session.id, 'Show me some code');
  await watcher.until((e) => e.data.type === 'turn.done' && e.data.turn_id === second.body.turn_id);
  const updates = watcher.events.filter((e) => e.data.turn_id === second.body.turn_id).map((e) => e.data);
  const deltas = updates.filter((d) => d.type === 'text.delta');
  const streamed = deltas.map((d) => d.text).join('');
  const stored = (await api.getSession(session.id)).body.messages.at(-1);
  assert.equal(streamed, stored.text);
  const words = stored.text.split(/\s+/).length;
  assert.ok(deltas.length < words / 2, `${deltas.length} deltas for ${words} words`);
  assert.ok(new Set(watcher.events.map((e) => e.id)).size === watcher.events.length, 'event ids are unique');
  assert.equal(intruder.events.length, 0);
});

test('updates published while the hub restarts are delivered once it is back', async () => {
  const hub = await startHub();
  const port = new URL(hub.url).port;
  const agent = await startAgent({ ...storeEnv('sqlite', { dir }), AGENT_SQLITE_PATH: `${dir}/restart.db`,
    AGENT_HUB_URL: hub.hubUrl, AGENT_DEMO_DELAY: '2ms', AGENT_PUBLISH_MAX_BACKOFF: '200ms' });
  stops.push(agent.kill);
  const api = apiClient(agent.url, 'patient');
  const { body: session } = await api.createSession('hub restarts');
  await hub.stop();

  const started = await api.send(session.id, 'Show me some code');
  const done = await api.waitForTurn(session.id);
  assert.equal(done.messages[1].status, 'complete', 'the turn completes without the hub');

  const back = await startHub({ HUB_LISTEN: `127.0.0.1:${port}` });
  stops.push(back.stop);
  const token = hs256({ mercure: { subscribe: ['/users/patient/sessions/{session}'] },
    exp: Math.floor(Date.now() / 1000) + 600 }, subscriberKey);
  // From the hub's earliest history: the agent may deliver its backlog before we connect.
  const watcher = subscribe(back.hubUrl, `/users/patient/sessions/${session.id}`, token, { fromEarliest: true });
  await watcher.opened;
  // The backlog is retried with backoff: the whole turn arrives, in order.
  await watcher.until((e) => e.data.type === 'turn.done' && e.data.turn_id === started.body.turn_id, 20000);
  const seqs = watcher.events.map((e) => e.data.seq);
  assert.equal(watcher.events[0].data.type, 'turn.start');
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
});
