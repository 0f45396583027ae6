// The fake_bedrock executable as other tests use it: started on a free port, scripted over its
// control endpoint, checking SigV4 signatures, streaming real event-stream frames, stopping on
// SIGTERM.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import path from 'node:path';

const bin = path.join(process.env.SUITE_BIN_DIR, 'fakes', 'fake_bedrock');
const children = [];
after(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

function startFake(args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${JSON.parse(line).port}` });
      }
    });
    child.on('exit', (code) => reject(new Error(`fake_bedrock exited ${code}`)));
    const timer = setTimeout(() => reject(new Error('fake_bedrock did not start')), 10000);
  });
}

const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

// A minimal SigV4 signer (the C++ one is tested against the AWS suite; this one proves the fake
// accepts any correct client).
// `at` signs as of another time; `contentSha256` adds a signed x-amz-content-sha256 header with
// that value (S3 style) and uses it as the payload hash.
function signedHeaders(url, body, accessKey, secret, { at = new Date(), contentSha256 } = {}) {
  const u = new URL(url);
  const amzDate = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const date = amzDate.slice(0, 8);
  const canonicalUri = u.pathname.split('/').map((s) => encodeURIComponent(s)).join('/');
  const headers = { 'content-type': 'application/json', host: u.host, 'x-amz-date': amzDate };
  if (contentSha256) headers['x-amz-content-sha256'] = contentSha256;
  const names = Object.keys(headers).sort();
  const payloadHash = contentSha256 ?? sha256(body);
  const creq = ['POST', canonicalUri, '', names.map((n) => `${n}:${headers[n]}\n`).join(''), names.join(';'), payloadHash].join('\n');
  const scope = `${date}/us-east-1/bedrock/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(creq)].join('\n');
  let key = hmac('AWS4' + secret, date);
  for (const part of ['us-east-1', 'bedrock', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(sts).digest('hex');
  return {
    'Content-Type': 'application/json',
    'X-Amz-Date': amzDate,
    ...(contentSha256 ? { 'x-amz-content-sha256': contentSha256 } : {}),
    Authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

// Splits an event stream into messages: [{headers: {name: string}, payload}].
function decodeFrames(buf) {
  const messages = [];
  let at = 0;
  while (at + 16 <= buf.length) {
    const total = buf.readUInt32BE(at);
    const headersLength = buf.readUInt32BE(at + 4);
    const headers = {};
    let h = at + 12;
    while (h < at + 12 + headersLength) {
      const nameLength = buf[h];
      const name = buf.subarray(h + 1, h + 1 + nameLength).toString();
      h += 1 + nameLength;
      assert.equal(buf[h], 7, 'Bedrock headers are strings');
      const valueLength = buf.readUInt16BE(h + 1);
      headers[name] = buf.subarray(h + 3, h + 3 + valueLength).toString();
      h += 3 + valueLength;
    }
    messages.push({ headers, payload: JSON.parse(buf.subarray(at + 12 + headersLength, at + total - 4).toString()) });
    at += total;
  }
  assert.equal(at, buf.length, 'no trailing bytes');
  return messages;
}

const modelPath = '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream';
const question = (text) => JSON.stringify({ messages: [{ role: 'user', content: [{ text }] }] });

test('unsigned and wrongly signed calls get 401 with an AWS error type', async () => {
  const { url } = await startFake();
  const body = question('hi');
  let res = await fetch(url + modelPath, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('x-amzn-errortype'), /^UnrecognizedClientException/);
  res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, 'AKIDFAKEBEDROCK', 'wrong') });
  assert.equal(res.status, 401);
  assert.match((await res.json()).message, /signature does not match/);
});

test('a signed x-amz-content-sha256 must be the hash of the body actually sent', async () => {
  const { url } = await startFake();
  const body = question('hi');
  const key = ['AKIDFAKEBEDROCK', 'fake-bedrock-secret'];
  // Correctly signed, but the signed hash is of another body: the signature alone would pass.
  let res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, ...key, { contentSha256: sha256(question('other')) }) });
  assert.equal(res.status, 401);
  assert.match((await res.json()).message, /x-amz-content-sha256 does not match the body/);
  res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, ...key, { contentSha256: sha256(body) }) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

test('an X-Amz-Date more than 5 minutes off gets 403 InvalidSignatureException with the server Date', async () => {
  const { url } = await startFake();
  const body = question('hi');
  const key = ['AKIDFAKEBEDROCK', 'fake-bedrock-secret'];
  for (const offsetMs of [-6 * 60_000, 6 * 60_000]) {
    const res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, ...key, { at: new Date(Date.now() + offsetMs) }) });
    assert.equal(res.status, 403, `offset ${offsetMs}`);
    assert.match(res.headers.get('x-amzn-errortype'), /^InvalidSignatureException/);
    assert.match((await res.json()).message, /^Signature expired/);
    assert.ok(Math.abs(Date.parse(res.headers.get('date')) - Date.now()) < 5000, res.headers.get('date'));
  }
  // Within the window is fine (4 minutes behind).
  const res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, ...key, { at: new Date(Date.now() - 4 * 60_000) }) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

test('--clock-offset-ms shifts the clock the fake checks dates against and sends in Date', async () => {
  const { url } = await startFake(['--clock-offset-ms', String(3_600_000)]);
  const body = question('hi');
  const key = ['AKIDFAKEBEDROCK', 'fake-bedrock-secret'];
  let res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, ...key) });
  assert.equal(res.status, 403);
  const serverTime = Date.parse(res.headers.get('date'));
  assert.ok(Math.abs(serverTime - (Date.now() + 3_600_000)) < 5000, res.headers.get('date'));
  res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, ...key, { at: new Date(serverTime) }) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

test('default answer streams event-stream frames; "time" asks for current_time', async () => {
  const { url } = await startFake(['--chunking', 'byte', '--delay-ms', '0']);
  let body = question('hello');
  let res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, 'AKIDFAKEBEDROCK', 'fake-bedrock-secret') });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/vnd.amazon.eventstream');
  let frames = decodeFrames(Buffer.from(await res.arrayBuffer()));
  assert.deepEqual([...new Set(frames.map((f) => f.headers[':event-type']))],
    ['messageStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']);
  assert.equal(frames.filter((f) => f.payload.delta?.text).map((f) => f.payload.delta.text).join(''),
    'Hello from the fake Bedrock model. You said: hello');
  assert.ok(frames.every((f) => f.headers[':message-type'] === 'event'));

  body = question('What time is it?');
  res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, 'AKIDFAKEBEDROCK', 'fake-bedrock-secret') });
  frames = decodeFrames(Buffer.from(await res.arrayBuffer()));
  const start = frames.find((f) => f.headers[':event-type'] === 'contentBlockStart');
  assert.equal(start.payload.start.toolUse.name, 'current_time');
  assert.equal(frames.find((f) => f.headers[':event-type'] === 'messageStop').payload.stopReason, 'tool_use');
});

test('control endpoint scripts a throttle and records requests; SIGTERM stops it', async () => {
  const { child, url } = await startFake();
  const scripted = await fetch(url + '/_fake/script', { method: 'POST', body: JSON.stringify([{ kind: 'error', status: 429, error_type: 'ThrottlingException' }]) });
  assert.deepEqual(await scripted.json(), { queued: 1 });
  const body = question('x');
  const res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, 'AKIDFAKEBEDROCK', 'fake-bedrock-secret') });
  assert.equal(res.status, 429);
  assert.match(res.headers.get('x-amzn-errortype'), /^ThrottlingException/);
  const requests = await (await fetch(url + '/_fake/requests')).json();
  assert.equal(requests.length, 1);
  assert.equal(requests[0].model_id, 'anthropic.claude-3-haiku-20240307-v1:0');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a clock answer stamps each delta with the CLOCK_MONOTONIC time it was written', async () => {
  const { url } = await startFake();
  await fetch(url + '/_fake/script', { method: 'POST', body: JSON.stringify([{ kind: 'clock', tokens: 5, delay_ms: 10 }]) });
  const body = question('x');
  // process.hrtime is CLOCK_MONOTONIC on Linux, the clock the fake stamps with.
  const before = process.hrtime.bigint();
  const res = await fetch(url + modelPath, { method: 'POST', body, headers: signedHeaders(url + modelPath, body, 'AKIDFAKEBEDROCK', 'fake-bedrock-secret') });
  const frames = decodeFrames(Buffer.from(await res.arrayBuffer()));
  const after = process.hrtime.bigint();
  assert.deepEqual(frames.map((f) => f.headers[':event-type']),
    ['messageStart', ...Array(5).fill('contentBlockDelta'), 'contentBlockStop', 'messageStop', 'metadata']);
  const stamps = frames.filter((f) => f.payload.delta?.text).map((f) => {
    const match = /^<t(\d+)> $/.exec(f.payload.delta.text);
    assert.ok(match, f.payload.delta.text);
    return BigInt(match[1]);
  });
  assert.equal(stamps.length, 5);
  assert.ok(stamps[0] >= before && stamps[4] <= after, `${before} <= ${stamps} <= ${after}`);
  // delay_ms apart: each stamp is taken at its own write, not when the answer was planned.
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i] - stamps[i - 1] >= 9_000_000n, `${stamps}`);
});
