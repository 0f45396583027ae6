// <NAME>_SECRET_ARN end to end: the real executables read their keys from a Secrets Manager that
// speaks the JSON 1.1 protocol and checks SigV4 (a local server here), use the secret's key over
// the environment's, and stop at start with one line naming the setting when the secret cannot
// be read.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHub, jwt, publish, stopAll, freePort } from '../hub/lib/hub_process.mjs';

const ACCESS_KEY = 'AKIDSECRETSTEST';
const SECRET_KEY = 'secrets-test-signing-key';
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:suite-keys-AbCdEf';
const SECRET_PUBLISHER = 'publisher-key-from-secrets-manager-0123456789';
const SECRET_SUBSCRIBER = 'subscriber-key-from-secrets-manager-0123456789';
const ENV_PUBLISHER = 'publisher-key-from-the-environment-0123456789';

const dir = mkdtempSync(path.join(tmpdir(), 'secret-settings-'));
const children = [];
after(() => {
  stopAll();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

// Checks a SigV4 Authorization header the way AWS does, from the headers it names.
function signatureProblem(req, body) {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'missing or malformed Authorization';
  const [, akid, date, region, service, signedHeaders, signature] = m;
  if (akid !== ACCESS_KEY) return `unknown access key ${akid}`;
  if (service !== 'secretsmanager') return `signed for service ${service}`;
  const amzDate = req.headers['x-amz-date'] ?? '';
  if (!amzDate.startsWith(date)) return 'X-Amz-Date does not match the scope';
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-target')) return 'host and x-amz-target must be signed';
  const lines = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = ['POST', '/', '', lines, signedHeaders, sha256(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac('AWS4' + SECRET_KEY, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(toSign).digest('hex') === signature ? null : 'signature does not match';
}

// GetSecretValue over JSON 1.1 for one secret; every other id is ResourceNotFoundException.
function startSecretsManager() {
  const calls = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const answer = (status, json) => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(json));
      };
      const problem = signatureProblem(req, body);
      if (problem) return answer(403, { __type: 'InvalidSignatureException', message: problem });
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' ||
          req.headers['content-type'] !== 'application/x-amz-json-1.1')
        return answer(400, { __type: 'UnknownOperationException', message: 'unexpected operation' });
      const { SecretId } = JSON.parse(body);
      calls.push(SecretId);
      if (SecretId !== ARN)
        return answer(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      answer(200, {
        ARN, Name: 'suite-keys', VersionId: 'v1',
        SecretString: JSON.stringify({ publisher: SECRET_PUBLISHER, subscriber: SECRET_SUBSCRIBER }),
      });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    after(() => server.close());
    resolve({ url: `http://127.0.0.1:${server.address().port}`, calls });
  }));
}

const sm = await startSecretsManager();

function awsEnv(extra = {}) {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_EC2_METADATA_DISABLED: 'true',
    HOME: dir,
    ...extra,
  };
}

// Runs an executable that is expected to refuse its configuration; resolves with its output.
function runToExit(name, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(process.env.SUITE_BIN_DIR, name, name), [], {
      env: { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${name} did not exit:\n${out}`)); }, 20000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

test('sse_hub takes both keys from the secret: a publish signed with it is accepted, one with the environment key refused', async () => {
  const before = sm.calls.length;
  const hub = await startHub(awsEnv({
    MERCURE_PUBLISHER_JWT_KEY_SECRET_ARN: `${ARN}#publisher`,
    MERCURE_SUBSCRIBER_JWT_KEY_SECRET_ARN: `${ARN}#subscriber`,
    MERCURE_PUBLISHER_JWT_KEY: ENV_PUBLISHER,  // the fallback, overridden by the secret
  }), { keys: false });
  try {
    // Both fields come from one secret: one GetSecretValue (the client caches it).
    assert.deepEqual(sm.calls.slice(before), [ARN]);
    const withSecret = await publish(hub, { topic: 'https://example.com/t', data: 'x' },
      { token: jwt({ mercure: { publish: ['*'] } }, SECRET_PUBLISHER) });
    assert.equal(withSecret.status, 200, withSecret.body);
    const withEnv = await publish(hub, { topic: 'https://example.com/t', data: 'x' },
      { token: jwt({ mercure: { publish: ['*'] } }, ENV_PUBLISHER) });
    assert.equal(withEnv.status, 401);
    // The subscriber key came from the secret too: a subscriber token signed with it opens a stream.
    const controller = new AbortController();
    const r = await fetch(`${hub.mercure}?topic=${encodeURIComponent('https://example.com/t')}`, {
      headers: { Authorization: `Bearer ${jwt({ mercure: { subscribe: ['*'] } }, SECRET_SUBSCRIBER)}` },
      signal: controller.signal,
    });
    assert.equal(r.status, 200);
    controller.abort();
    assert.ok(!hub.output().includes(SECRET_PUBLISHER) && !hub.output().includes(SECRET_SUBSCRIBER), 'a key reached the log');
  } finally {
    await hub.stop();
  }
});

test('without any *_SECRET_ARN nothing asks Secrets Manager and the environment key is used', async () => {
  const before = sm.calls.length;
  const hub = await startHub({ MERCURE_PUBLISHER_JWT_KEY: ENV_PUBLISHER, MERCURE_SUBSCRIBER_JWT_KEY: SECRET_SUBSCRIBER }, { keys: false });
  try {
    assert.equal(sm.calls.length, before);
    const r = await publish(hub, { topic: 'https://example.com/t', data: 'x' }, { token: jwt({ mercure: { publish: ['*'] } }, ENV_PUBLISHER) });
    assert.equal(r.status, 200, r.body);
  } finally {
    await hub.stop();
  }
});

test('the agent and the app start with their key from the secret', async () => {
  for (const [name, listen, setting, field] of [
    ['agent', 'AGENT_LISTEN', 'MERCURE_PUBLISHER_JWT_KEY', 'publisher'],
    ['app', 'APP_LISTEN', 'MERCURE_SUBSCRIBER_JWT_KEY', 'subscriber'],
  ]) {
    const port = await freePort();
    const before = sm.calls.length;
    const child = spawn(path.join(process.env.SUITE_BIN_DIR, name, name), [], {
      env: {
        PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? '',
        ...awsEnv({ [`${setting}_SECRET_ARN`]: `${ARN}#${field}`, [listen]: `127.0.0.1:${port}`,
                    AGENT_SQLITE_PATH: path.join(dir, 'agent.db'), AGENT_MODEL_PROVIDER: 'demo' }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let healthy = false;
    for (const deadline = Date.now() + 15000; Date.now() < deadline && child.exitCode === null;) {
      try { healthy = (await fetch(`http://127.0.0.1:${port}/healthz`)).ok; } catch {}
      if (healthy) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(healthy, `${name} did not start:\n${out}`);
    assert.deepEqual(sm.calls.slice(before), [ARN], name);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    assert.ok(!out.includes(field === 'publisher' ? SECRET_PUBLISHER : SECRET_SUBSCRIBER), `${name} logged its key`);
  }
});

test('a secret that cannot be read stops each executable at start with one line naming the setting', async () => {
  const cases = [
    ['sse_hub', 'MERCURE_PUBLISHER_JWT_KEY', `${ARN}-wrong`, /ResourceNotFoundException/],
    ['sse_hub', 'MERCURE_SUBSCRIBER_JWT_KEY', `${ARN}#nofield`, /no string key 'nofield'/],
    ['agent', 'MERCURE_PUBLISHER_JWT_KEY', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing', /ResourceNotFoundException/],
    ['app', 'MERCURE_SUBSCRIBER_JWT_KEY', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing', /ResourceNotFoundException/],
  ];
  for (const [name, setting, reference, why] of cases) {
    const { code, out } = await runToExit(name, awsEnv({
      [`${setting}_SECRET_ARN`]: reference,
      [setting]: ENV_PUBLISHER,  // a fallback does not hide a secret that fails
      AGENT_SQLITE_PATH: path.join(dir, 'agent.db'),
    }));
    assert.equal(code, 2, `${name}: ${out}`);
    // JSON lines are the log (e.g. which credentials were found); the error is the one other line.
    const lines = out.trim().split('\n').filter((l) => !l.startsWith('{'));
    assert.equal(lines.length, 1, `${name}: one line expected:\n${out}`);
    assert.match(lines[0], new RegExp(`^${name}: configuration error: ${setting}_SECRET_ARN: cannot read `));
    assert.match(lines[0], why);
    for (const value of [SECRET_PUBLISHER, SECRET_SUBSCRIBER, ENV_PUBLISHER, SECRET_KEY])
      assert.ok(!lines[0].includes(value), `${name} printed a key: ${lines[0]}`);
  }
  // Signed with the wrong AWS key: refused by the signature check, named the same way.
  const { code, out } = await runToExit('sse_hub', awsEnv({
    MERCURE_PUBLISHER_JWT_KEY_SECRET_ARN: `${ARN}#publisher`, AWS_SECRET_ACCESS_KEY: 'not-the-key',
  }));
  assert.equal(code, 2, out);
  assert.match(out, /^sse_hub: configuration error: MERCURE_PUBLISHER_JWT_KEY_SECRET_ARN: cannot read .*InvalidSignatureException/m);
  assert.ok(!out.includes('not-the-key'), 'the AWS secret key was printed');
});
