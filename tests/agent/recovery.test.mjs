// Crash recovery across instances, as on ECS where every task has its own instance id: a running
// turn renews its lock's lease, so when its process dies the lock expires within
// AGENT_TURN_LOCK_LEASE, and another instance (by its periodic sweep, or when the next message
// arrives) marks the turn interrupted, tells watchers with turn.error, and takes new messages.
// The real executables over real sockets, against the store named by AGENT_TEST_STORE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startAgent, startDynalite, startHub, storeEnv, apiClient, scratchDir, sleep, subscribe,
  subscriberToken } from './agent_process.mjs';

const kind = process.env.AGENT_TEST_STORE ?? 'sqlite';
const LEASE_MS = 2000;
// A lease of 2 s renewed every 500 ms; the demo model slow enough that a turn outlives the lease.
const lockSettings = { AGENT_TURN_LOCK_LEASE: `${LEASE_MS}ms`, AGENT_TURN_LOCK_HEARTBEAT: '500ms',
  AGENT_DEMO_DELAY: '150ms' };
let dir;
let dynalite;
let hub;
let table;
const stops = [];
const settings = () => ({ ...storeEnv(kind, { dir, dynalite, table }), ...lockSettings, AGENT_HUB_URL: hub.hubUrl });

before(async () => {
  dir = scratchDir();
  if (kind === 'dynamodb') {
    dynalite = await startDynalite();
    table = `agent-recovery-${Date.now()}`;
  }
  hub = await startHub();
});

after(async () => {
  for (const stop of stops.reverse()) await stop();
  await hub?.stop();
  await dynalite?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function agentNamed(id, extra = {}) {
  const agent = await startAgent({ ...settings(), AGENT_INSTANCE_ID: id, ...extra });
  stops.push(agent.kill);
  return agent;
}

// A turn started on `agent` that has streamed some text, watched on the hub.
async function turnInFlight(agent, user) {
  const api = apiClient(agent.url, user);
  const { body: session } = await api.createSession('crashing');
  const watcher = subscribe(hub.hubUrl, `/users/${user}/sessions/${session.id}`, subscriberToken(user));
  stops.push(async () => watcher.close());
  await watcher.opened;
  const started = await api.send(session.id, 'Explain everything');
  assert.equal(started.status, 202);
  await api.waitForPartialText(session.id);
  return { session, watcher, turnId: started.body.turn_id };
}

test('an instance killed mid-turn: another instance with another id marks the turn interrupted within the lease, publishes turn.error, and takes the next message', async () => {
  const a = await agentNamed('task-a');
  const b = await agentNamed('task-b', { AGENT_TURN_RECOVERY_INTERVAL: '500ms' });
  const { session, watcher, turnId } = await turnInFlight(a, 'phoenix');
  const apiB = apiClient(b.url, 'phoenix');
  // Past the lease, the live turn still holds its lock (it renews it): b leaves it alone.
  await sleep(LEASE_MS + 500);
  let res = await apiB.getSession(session.id, '?limit=200');
  assert.equal(res.body.messages.at(-1).status, 'running', 'a live turn was taken for dead');
  assert.equal((await apiB.send(session.id, 'me too')).status, 409);

  await a.kill();
  const killedAt = Date.now();
  const done = await apiB.waitForTurn(session.id, 15000);
  const took = Date.now() - killedAt;
  assert.ok(took <= LEASE_MS + 500 + 1500, `marked ${took} ms after the kill; the lease is ${LEASE_MS} ms`);
  const assistant = done.messages.at(-1);
  assert.equal(assistant.turn_id, turnId);
  assert.equal(assistant.status, 'interrupted');
  assert.deepEqual(assistant.error, { code: 'interrupted', message: 'the agent stopped before the turn finished' });
  assert.ok(assistant.text.startsWith('## Demo'), `the partial answer is kept: ${assistant.text}`);
  const error = await watcher.until((e) => e.data.type === 'turn.error' && e.data.turn_id === turnId, 5000);
  assert.equal(error.data.code, 'interrupted');

  res = await apiB.send(session.id, 'are you there?');
  assert.equal(res.status, 202);
  const next = await apiB.waitForTurn(session.id, 60000);
  assert.equal(next.messages.length, 4);
  assert.equal(next.messages.at(-1).status, 'complete');
});

test("a message sent once a dead instance's lease ran out is accepted, and the dead turn is marked interrupted and announced", async () => {
  const a = await agentNamed('task-c');
  // No sweep in this test's time: the message itself must recover the session.
  const b = await agentNamed('task-d', { AGENT_TURN_RECOVERY_INTERVAL: '1h' });
  const { session, watcher, turnId } = await turnInFlight(a, 'lazarus');
  await a.kill();
  const apiB = apiClient(b.url, 'lazarus');
  const early = await apiB.send(session.id, 'too soon');
  assert.equal(early.status, 409, 'within the lease the lock still holds');
  await sleep(LEASE_MS + 300);
  const res = await apiB.send(session.id, 'now?');
  assert.equal(res.status, 202);
  const error = await watcher.until((e) => e.data.type === 'turn.error' && e.data.turn_id === turnId, 5000);
  assert.equal(error.data.code, 'interrupted');
  const done = await apiB.waitForTurn(session.id, 60000);
  const dead = done.messages.find((m) => m.turn_id === turnId && m.role === 'assistant');
  assert.equal(dead.status, 'interrupted');
  assert.equal(dead.error.code, 'interrupted');
  assert.equal(done.messages.at(-1).status, 'complete');
  assert.equal(done.messages.at(-2).text, 'now?');
});
