// Starts the production-like stack (the e2e harness) in the foreground for people to try: the
// three executables in a fresh network namespace behind nginx + ModSecurity + CRS, with dynalite
// and the fake Bedrock. Prints the edge URL; Ctrl-C or SIGTERM stops everything and removes the
// namespace. Run through scripts/prod_like.sh.
import { parseArgs } from 'node:util';

import { ProductionLikeStack } from '../../tests/e2e/lib/production_like_stack.mjs';
import { publishedOrigins, startTcpRelay } from '../../tests/e2e/lib/tcp_relay.mjs';

const usage = `usage: scripts/prod_like.sh [--bin-dir DIR] [--auth none|token] [--model fake-bedrock|demo]
                            [--publish HOST:PORT] [--origin URL]...
  --bin-dir  build folder holding app/app, agent/agent, sse_hub/sse_hub (default: $SUITE_BIN_DIR or
             ./build; --build DIR is the same, as scripts/run.sh --prod-like passes it)
  --auth     APP_AUTH of the app (default none: one local user; token prints a bearer token per user)
  --model    fake-bedrock (default when built: Bedrock's wire format, SigV4 checked) or demo
  --publish  also forward HOST:PORT on this machine to the edge's HTTPS port, e.g. 127.0.0.1:8443,
             so that an SSH tunnel or a local browser can reach it by a loopback address; the app
             accepts requests from https://HOST:PORT (and the other loopback names of it)
  --origin   a further origin the browser uses, e.g. https://devbox.example:8443 when an SSH
             tunnel or a proxy fronts --publish under another name (repeatable)`;

function fail(message) {
  process.stderr.write(`prod_like: ${message}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      'bin-dir': { type: 'string' },
      build: { type: 'string' },
      auth: { type: 'string', default: 'none' },
      model: { type: 'string' },
      publish: { type: 'string' },
      origin: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail(`${err.message}\n${usage}`);
}
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (!['none', 'token'].includes(args.auth)) fail(`--auth must be none or token\n${usage}`);
if (args.model && !['fake-bedrock', 'demo'].includes(args.model)) fail(`--model must be fake-bedrock or demo\n${usage}`);

let publish;
if (args.publish) {
  const m = /^([^:]+):(\d{1,5})$/.exec(args.publish);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) fail(`--publish wants HOST:PORT, got ${args.publish}`);
  publish = { host: m[1], port: Number(m[2]) };
}
const extraOrigins = [...(publish ? publishedOrigins(publish.host, publish.port) : [])];
for (const origin of args.origin || []) {
  if (!/^https?:\/\/[^/]+$/.test(origin)) fail(`--origin wants scheme://host[:port] without a path, got ${origin}`);
  extraOrigins.push(origin);
}

let stack;
let relay;
let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\nprod_like: ${signal}: stopping the stack\n`);
  if (relay) relay.close();
  if (stack) await stack.stop();
  process.stdout.write(`prod_like: stopped; logs kept in ${stack ? stack.runDir : '(none)'}\n`);
  process.exit(0);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

try {
  stack = await ProductionLikeStack.start({
    binDir: args['bin-dir'] || args.build || process.env.SUITE_BIN_DIR || 'build',
    appAuth: args.auth,
    model: args.model,
    extraOrigins,
  });
} catch (err) {
  fail(err.message);
}
if (stopping) process.exit(0);

const lines = [
  '',
  `Edge (ALB + WAF) URL: ${stack.edgeUrl}/   (certificate from a CA made for this run: ${stack.caCertPath})`,
  `Plain HTTP redirects: ${stack.edgeHttpUrl}/`,
  `Model: ${stack.model}; store: dynalite; namespace: ${stack.namespace.name}`,
  `Logs: ${stack.runDir}`,
];
if (publish) {
  try {
    relay = await startTcpRelay(publish, { host: stack.namespace.taskAddress, port: 443 });
    lines.push(`Also published on https://${publish.host}:${publish.port}/ (TCP relay to the edge)`);
  } catch (err) {
    lines.push(`Could not publish on ${args.publish}: ${err.message}`);
  }
}
if (extraOrigins.length) lines.push(`Origins the app accepts besides the edge's: ${extraOrigins.join(', ')}`);
if (args.auth === 'token') {
  for (const [user, token] of Object.entries(stack.users)) lines.push(`User ${user}: Authorization: Bearer ${token}`);
}
lines.push('Press Ctrl-C to stop.', '');
process.stdout.write(lines.join('\n'));

// Stay in the foreground; if a part of the task dies, say so and stop, as ECS would stop the task
// when an essential container exits.
for (const proc of Object.values(stack.processes)) {
  proc.exited.then((exit) => {
    if (stopping) return;
    process.stderr.write(`prod_like: ${proc.name} exited (${JSON.stringify(exit)}); log tail:\n${proc.logTail(2000)}\n`);
    shutdown(`${proc.name} exited`);
  });
}
