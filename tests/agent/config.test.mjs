// Settings the agent must refuse at start: the real executable exits with a one-line error that
// names the settings at fault, instead of starting in a state where they would misbehave.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { agentExit, startAgent, scratchDir } from './agent_process.mjs';

const dir = scratchDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const sqlite = (name) => ({ AGENT_STORE: 'sqlite', AGENT_SQLITE_PATH: path.join(dir, name) });

// The one line of the refusal (the agent prints nothing else before exiting).
function refusal(output) {
  const lines = output.trim().split('\n');
  assert.equal(lines.length, 1, `more than one line:\n${output}`);
  return lines[0];
}

test('a message limit above the body limit is refused at start, naming both', async () => {
  const { code, output } = await agentExit({ ...sqlite('a.db'), AGENT_MAX_MESSAGE_BYTES: '2MiB', AGENT_MAX_BODY: '1MiB' });
  assert.equal(code, 2);
  const line = refusal(output);
  assert.match(line, /AGENT_MAX_MESSAGE_BYTES/);
  assert.match(line, /AGENT_MAX_BODY/);
});

test('a lock heartbeat not shorter than the lease is refused at start, naming both', async () => {
  const { code, output } = await agentExit({ ...sqlite('b.db'), AGENT_TURN_LOCK_LEASE: '10s', AGENT_TURN_LOCK_HEARTBEAT: '10s' });
  assert.equal(code, 2);
  const line = refusal(output);
  assert.match(line, /AGENT_TURN_LOCK_HEARTBEAT/);
  assert.match(line, /AGENT_TURN_LOCK_LEASE/);
});

test('a shutdown grace that does not fit the drain timeout is refused at start', async () => {
  const { code, output } = await agentExit({ ...sqlite('c.db'), AGENT_SHUTDOWN_GRACE: '25s', AGENT_DRAIN_TIMEOUT: '20s' });
  assert.equal(code, 2);
  const line = refusal(output);
  assert.match(line, /AGENT_SHUTDOWN_GRACE/);
  assert.match(line, /AGENT_DRAIN_TIMEOUT/);
});

test('an approval list naming a tool that does not exist is refused at start', async () => {
  const { code, output } = await agentExit({ ...sqlite('d.db'), AGENT_TOOLS_REQUIRE_APPROVAL: 'current_time,rm_rf' });
  assert.notEqual(code, 0);
  const line = refusal(output);
  assert.match(line, /AGENT_TOOLS_REQUIRE_APPROVAL/);
  assert.match(line, /rm_rf/);
});

test('a SQLite file written by a newer agent is refused with one line naming AGENT_SQLITE_PATH, and left as it was', async () => {
  // A database this agent made, then stamped as a newer agent would: PRAGMA user_version is the
  // big-endian 32-bit number at byte 60 of the file header.
  const file = path.join(dir, 'newer.db');
  const maker = await startAgent({ AGENT_STORE: 'sqlite', AGENT_SQLITE_PATH: file });
  assert.equal((await maker.stop()).code, 0);
  const bytes = fs.readFileSync(file);
  bytes.writeUInt32BE(99, 60);
  fs.writeFileSync(file, bytes);
  const before = fs.readFileSync(file);
  const { code, output } = await agentExit({ AGENT_STORE: 'sqlite', AGENT_SQLITE_PATH: file });
  assert.equal(code, 1);
  const line = refusal(output);
  assert.match(line, /AGENT_SQLITE_PATH/);
  assert.match(line, /schema version 99/);
  assert.deepEqual(fs.readFileSync(file), before, 'the newer database was changed');
});
