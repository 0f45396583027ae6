// The agent with AGENT_MODEL_PROVIDER=bedrock against the fake Bedrock (the real wire format,
// SigV4 checked): a tool loop through the real executables, and a model error ending the turn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startAgent, storeEnv, apiClient, scratchDir } from './agent_process.mjs';

const dir = scratchDir();
let fake;
let fakeUrl;
let agent;

before(async () => {
  fake = spawn(path.join(process.env.SUITE_BIN_DIR, 'fakes', 'fake_bedrock'), [], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => fake.kill('SIGKILL'));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    fake.stdout.on('data', (d) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"port"'));
      if (line) resolve(JSON.parse(line).port);
    });
    fake.on('exit', (code) => reject(new Error(`fake_bedrock exited with ${code}`)));
    setTimeout(() => reject(new Error('fake_bedrock did not start')), 20000);
  });
  fakeUrl = `http://127.0.0.1:${port}`;
  agent = await startAgent({
    ...storeEnv('sqlite', { dir }),
    AGENT_MODEL_PROVIDER: 'bedrock',
    BEDROCK_MODEL_ID: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: fakeUrl,
    AWS_ACCESS_KEY_ID: 'AKIDFAKEBEDROCK',
    AWS_SECRET_ACCESS_KEY: 'fake-bedrock-secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
  });
});

after(async () => {
  await agent?.kill();
  fake?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a Bedrock turn runs the tool loop and persists the answer', async () => {
  const api = apiClient(agent.url, 'bedrock-user');
  const { body: session } = await api.createSession('bedrock');
  const res = await api.send(session.id, 'What time is it?');
  assert.equal(res.status, 202);
  const done = await api.waitForTurn(session.id);
  const assistant = done.messages[1];
  assert.equal(assistant.status, 'complete', JSON.stringify(assistant));
  const call = assistant.content.find((b) => b.type === 'tool_call');
  assert.equal(call.name, 'current_time');
  assert.equal(call.is_error, false);
  assert.ok(assistant.text.includes(`The tool returned: ${call.output}`), assistant.text);
  assert.ok(assistant.usage.output_tokens > 0);
  // The second model call carried the tool result back, in the Converse shape.
  const requests = await (await fetch(`${fakeUrl}/_fake/requests`)).json();
  const last = requests.at(-1).body.messages.at(-1);
  assert.equal(last.role, 'user');
  assert.equal(last.content[0].toolResult.toolUseId, call.call_id);
});

test('a model error ends the turn with turn status error and keeps the history', async () => {
  await fetch(`${fakeUrl}/_fake/script`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([{ kind: 'error', status: 400, error_type: 'ValidationException', message: 'too long' }]),
  });
  const api = apiClient(agent.url, 'bedrock-user');
  const { body: session } = await api.createSession('bedrock error');
  await api.send(session.id, 'Hello');
  const done = await api.waitForTurn(session.id);
  const assistant = done.messages[1];
  assert.equal(assistant.status, 'error');
  assert.ok(assistant.error.code.length > 0);
  assert.match(assistant.error.message, /too long/);
  assert.equal(done.messages[0].text, 'Hello');
});
