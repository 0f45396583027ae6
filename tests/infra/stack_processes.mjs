// Runs the real executables with a deployment's settings, on free ports of this machine: the
// container environment from compose.yaml or the ECS task definition, with only the listen
// addresses and the addresses between containers moved to free ports (the containers of one
// task share localhost, so the three processes here do too). Every process started here is
// killed when the test process exits, whatever happens.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function startProcess(name, command, args, env) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  live.add(child);
  const output = [];
  child.stdout.on('data', (d) => output.push(d.toString()));
  child.stderr.on('data', (d) => output.push(d.toString()));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    live.delete(child);
    resolve({ code, signal });
  }));
  return {
    name, child, output, exited,
    log: () => output.join('').slice(-4000),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

// Polls url until it answers `status` (or the process dies, or the time runs out).
export async function waitForStatus(url, proc, status = 200, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < end) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited (${proc.child.exitCode}) before ${url} answered:\n${proc.log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = `${res.status} ${(await res.text()).slice(0, 200)}`;
      if (res.status === status) return;
    } catch (e) {
      last = e.message;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last}):\n${proc.log()}`);
}

// Servers that pick their own port from freePort() retry on another port when a process
// outside this test took that one meanwhile.
async function withFreshPort(start, attempts = 5) {
  let last;
  for (let i = 0; i < attempts; ++i) {
    try {
      return await start(await freePort());
    } catch (e) {
      last = e;
      if (!/EADDRINUSE|Address already in use/i.test(e.message)) throw e;
    }
  }
  throw last;
}

export async function startDynalite(sourceDir) {
  return withFreshPort(async (port) => {
    const proc = startProcess('dynalite', 'node', [path.join(sourceDir, 'node_modules/dynalite/cli.js'), '--port', String(port)],
      { PATH: process.env.PATH });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitForStatus(endpoint, proc, 200);
    return { endpoint, proc };
  });
}

export async function startRedis() {
  return withFreshPort(async (port) => {
    const proc = startProcess('redis', 'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { PATH: process.env.PATH });
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      if (proc.child.exitCode !== null) throw new Error(`redis-server exited:\n${proc.log()}`);
      const up = await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (up) return { url: `redis://127.0.0.1:${port}`, proc };
      await sleep(50);
    }
    await proc.stop();
    throw new Error(`redis-server did not listen:\n${proc.log()}`);
  });
}

// A DynamoDB CreateTable against a local server that accepts any signature (dynalite).
// Creates the table as Terraform's aws_dynamodb_table describes it: its key attributes (the
// variables resolved by the caller), every other attribute and every global secondary index.
export async function createTable(endpoint, { table, hashKey, rangeKey, resource = {} }) {
  const resolveName = (n) => (n === '${var.hash_key}' ? hashKey : n === '${var.range_key}' ? rangeKey : n);
  const attributes = new Map([[hashKey, 'S'], [rangeKey, 'S']]);
  for (const a of resource.attribute ?? []) attributes.set(resolveName(a.name), a.type);
  const keySchema = (hash, range) => [
    { AttributeName: resolveName(hash), KeyType: 'HASH' },
    ...(range ? [{ AttributeName: resolveName(range), KeyType: 'RANGE' }] : []),
  ];
  const indexes = (resource.global_secondary_index ?? []).map((g) => ({
    IndexName: g.name,
    KeySchema: keySchema(g.hash_key, g.range_key),
    Projection: { ProjectionType: g.projection_type ?? 'ALL' },
  }));
  const res = await fetch(endpoint, {
    method: 'POST',
    signal: AbortSignal.timeout(10_000),
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'DynamoDB_20120810.CreateTable',
      'X-Amz-Date': '20260101T000000Z',
      Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00',
    },
    body: JSON.stringify({
      TableName: table,
      AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
      KeySchema: keySchema(hashKey, rangeKey),
      ...(indexes.length ? { GlobalSecondaryIndexes: indexes } : {}),
      BillingMode: 'PAY_PER_REQUEST',
    }),
  });
  if (res.status !== 200) throw new Error(`CreateTable ${table}: ${res.status} ${await res.text()}`);
}

// Moves a container setting to this machine's free ports: HOST:PORT listen values and URLs whose
// port is one of the containers' ports, and URLs naming another compose service by name.
export function relocate(value, portMap, hostMap = {}) {
  const v = String(value);
  const listen = v.match(/^([^/:]*):(\d+)$/);
  if (listen && portMap[listen[2]]) return `127.0.0.1:${portMap[listen[2]]}`;
  if (/^https?:\/\//.test(v)) {
    const url = new URL(v);
    const byHost = hostMap[`${url.hostname}:${url.port}`];
    if (byHost) return v.replace(`${url.hostname}:${url.port}`, byHost);
    if ((url.hostname === '127.0.0.1' || url.hostname === 'localhost') && portMap[url.port]) {
      return v.replace(`${url.hostname}:${url.port}`, `127.0.0.1:${portMap[url.port]}`);
    }
  }
  return v;
}
