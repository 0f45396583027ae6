// The agent with AGENT_MODEL_PROVIDER=openai against the fake OpenAI-compatible server (real SSE
// chunks, bearer key checked): a whole tool-use turn through the real executables, a server
// error ending the turn, the key kept out of turns and logs, and a missing setting stopping the start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startAgent, storeEnv, apiClient, scratchDir, agentBinary } from './agent_process.mjs';

const apiKey = 'sk-agent-test-openai-key-4242';
const dir = scratchDir();
let fake;
let fakeUrl;
let agent;

function startFake() {
  const child = spawn(path.join(process.env.SUITE_BIN_DIR, 'fakes', 'fake_openai'), ['--api-key', apiKey],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"port"'));
      if (line) resolve({ child, url: `http://127.0.0.1:${JSON.parse(line).port}` });
    });
    child.on('exit', (code) => reject(new Error(`fake_openai exited with ${code}`)));
    setTimeout(() => reject(new Error('fake_openai did not start')), 20000);
  });
}

const script = (responses) => fetch(`${fakeUrl}/_fake/script`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(responses),
});

before(async () => {
  ({ child: fake, url: fakeUrl } = await startFake());
  agent = await startAgent({
    ...storeEnv('sqlite', { dir }),
    AGENT_MODEL_PROVIDER: 'openai',
    OPENAI_BASE_URL: `${fakeUrl}/v1`,
    OPENAI_MODEL: 'llama3.1:8b',
    OPENAI_API_KEY: apiKey,
    OPENAI_MAX_ATTEMPTS: '1',
    LOG_LEVEL: 'debug',
  });
});

after(async () => {
  await agent?.kill();
  fake?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an openai turn runs the tool loop and persists the answer', async () => {
  const api = apiClient(agent.url, 'openai-user');
  const { body: session } = await api.createSession('openai');
  const res = await api.send(session.id, 'What time is it?');
  assert.equal(res.status, 202);
  const done = await api.waitForTurn(session.id);
  const assistant = done.messages[1];
  assert.equal(assistant.status, 'complete', JSON.stringify(assistant));
  assert.equal(assistant.stop_reason, 'end_turn');
  const call = assistant.content.find((b) => b.type === 'tool_call');
  assert.equal(call.name, 'current_time');
  assert.equal(call.is_error, false);
  assert.match(call.output, /^\d{4}-\d\d-\d\dT/);
  assert.ok(assistant.text.startsWith('Let me check the time.'), assistant.text);
  assert.ok(assistant.text.includes(`The tool returned: ${call.output}`), assistant.text);
  // Two model calls, 21 + 9 tokens each from the fake.
  assert.deepEqual(assistant.usage, { input_tokens: 42, output_tokens: 18 });

  const requests = await (await fetch(`${fakeUrl}/_fake/requests`)).json();
  assert.equal(requests.length, 2);
  for (const r of requests) {
    assert.equal(r.path, '/v1/chat/completions');
    assert.equal(r.authorized, true);
    assert.equal(r.body.model, 'llama3.1:8b');
    assert.equal(r.body.stream, true);
    assert.deepEqual(r.body.stream_options, { include_usage: true });
    assert.ok(r.body.max_tokens > 0);
    assert.ok(r.body.tools.some((t) => t.type === 'function' && t.function.name === 'current_time'));
  }
  const messages = requests[1].body.messages;
  assert.equal(messages[0].role, 'system');
  assert.deepEqual(messages[1], { role: 'user', content: 'What time is it?' });
  assert.equal(messages[2].role, 'assistant');
  assert.equal(messages[2].content, 'Let me check the time.');
  assert.deepEqual(messages[2].tool_calls, [
    { id: call.call_id, type: 'function', function: { name: 'current_time', arguments: '{}' } },
  ]);
  assert.deepEqual(messages[3], { role: 'tool', tool_call_id: call.call_id, content: call.output });
  assert.equal(messages.length, 4);
});

test('a server error ends the turn with its message and keeps the history', async () => {
  await script([{ kind: 'error', status: 400, message: "This model's maximum context length is 8192 tokens." }]);
  const api = apiClient(agent.url, 'openai-user');
  const { body: session } = await api.createSession('openai error');
  await api.send(session.id, 'Hello');
  const done = await api.waitForTurn(session.id);
  const assistant = done.messages[1];
  assert.equal(assistant.status, 'error');
  assert.equal(assistant.error.code, 'validation');
  assert.match(assistant.error.message, /maximum context length is 8192 tokens/);
  assert.equal(done.messages[0].text, 'Hello');
});

test('a turn cut mid-stream keeps the streamed text and fails the turn', async () => {
  await script([{ kind: 'cut_mid_stream', text: 'The first half' }]);
  const api = apiClient(agent.url, 'openai-user');
  const { body: session } = await api.createSession('openai cut');
  await api.send(session.id, 'Tell me a story');
  const done = await api.waitForTurn(session.id);
  const assistant = done.messages[1];
  assert.equal(assistant.status, 'error');
  assert.equal(assistant.error.code, 'unavailable');
  assert.equal(assistant.text, 'The first half');
});

test('a server error echoing the API key shows it neither in the turn nor in the logs', async () => {
  await script([{ kind: 'error', status: 401, message: `Incorrect API key provided: ${apiKey}.` }]);
  const api = apiClient(agent.url, 'openai-user');
  const { body: session } = await api.createSession('openai key');
  await api.send(session.id, 'Hello');
  const done = await api.waitForTurn(session.id);
  const assistant = done.messages[1];
  assert.equal(assistant.status, 'error');
  assert.equal(assistant.error.code, 'unauthorized');
  assert.match(assistant.error.message, /Incorrect API key provided: \[redacted\]/);
  assert.ok(!JSON.stringify(done).includes(apiKey), 'the key reached the API');
  const logs = agent.output.join('');
  assert.ok(logs.length > 0);
  assert.ok(!logs.includes(apiKey), 'the key was logged');
});

test('AGENT_MODEL_PROVIDER=openai without OPENAI_MODEL stops the agent with a one-line error', async () => {
  const child = spawn(agentBinary, [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      AGENT_MODEL_PROVIDER: 'openai',
      OPENAI_BASE_URL: `${fakeUrl}/v1`,
      OPENAI_API_KEY: apiKey,
      MERCURE_PUBLISHER_JWT_KEY: 'agent-tests-publisher-secret-0123456789',
      AGENT_SQLITE_PATH: path.join(dir, 'never.db'),
    },
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d.toString(); });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.match(stderr, /^agent: configuration error: OPENAI_MODEL: is required when AGENT_MODEL_PROVIDER=openai/);
  assert.ok(!stderr.includes(apiKey));
});
