// The product as it runs in production, on one machine: the three real executables in one fresh
// network namespace (the ECS task), dynalite as the DynamoDB store and the fake Bedrock as the
// model beside them, and nginx + ModSecurity + CRS as the ALB with its WAF. Only the edge listens
// on the task address; the host reaches nothing else.
//
// Inside a fresh namespace every port is free, so the contract ports (8080, 8000, 3701) are used
// as they are in production, bound to loopback; the edge takes 443 and 80 on the task address.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { writeEdgeConfig } from './edge_config.mjs';
import { NetworkNamespace } from './network_namespace.mjs';
import { SupervisedProcess } from './supervised_process.mjs';

const execFileAsync = promisify(execFile);

export const TASK_PORTS = Object.freeze({ app: 8080, agent: 8000, hub: 3701, store: 4567, model: 4590, redis: 6379 });
export const EDGE_PORTS = Object.freeze({ https: 443, http: 80 });
// Order of start; stop goes the other way. The model runs only as the fake Bedrock, redis only
// when the hub keeps its history there (hubRedis).
export const COMPONENTS = Object.freeze(['store', 'model', 'redis', 'hub', 'agent', 'app', 'edge']);

const READY_TIMEOUT_MS = 30_000;

function locateBinDir(binDir) {
  const dir = resolve(binDir || process.env.SUITE_BIN_DIR || '');
  for (const exe of ['app/app', 'agent/agent', 'sse_hub/sse_hub']) {
    if (!existsSync(join(dir, exe))) {
      throw new Error(`executable ${exe} not found under ${dir}: build first or set SUITE_BIN_DIR`);
    }
  }
  return dir;
}

function locateSourceDir(sourceDir) {
  const dir = resolve(sourceDir || process.env.SUITE_SOURCE_DIR || join(import.meta.dirname, '..', '..', '..'));
  if (!existsSync(join(dir, 'node_modules', 'dynalite', 'cli.js'))) {
    throw new Error(`dynalite not installed under ${dir}/node_modules: run npm ci at the project root`);
  }
  return dir;
}

// Where the fake Bedrock lands in the build folder (tests/fakes builds it).
export function fakeBedrockPath(binDir) {
  return join(binDir, 'fakes', 'fake_bedrock');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class ProductionLikeStack {
  // options:
  //   binDir, sourceDir: build and source folders (default SUITE_BIN_DIR / SUITE_SOURCE_DIR)
  //   appAuth: APP_AUTH (default 'token'); users: {name: token} for APP_AUTH=token
  //   model: 'fake-bedrock' (default when built) or 'demo'
  //   drainMs: the executables' *_DRAIN_TIMEOUT (default 10 s; production has 20 s inside ECS's
  //     30 s stop timeout)
  //   hubRedis: run redis-server in the task and give the hub HUB_REDIS_URL, as the ECS task has
  //     (its history then outlives a hub restart)
  //   extraOrigins: origins the browser may come from besides the edge's own (APP_ALLOWED_ORIGINS),
  //     e.g. the loopback address scripts/prod_like.sh --publish relays
  //   extraEnv: {app: {...}, agent: {...}, hub: {...}} added to each executable's environment
  constructor(options = {}) {
    this.options_ = options;
    this.binDir = locateBinDir(options.binDir);
    this.sourceDir = locateSourceDir(options.sourceDir);
    this.runDir = mkdtempSync(join(options.runRoot || tmpdir(), 'suite-e2e-'));
    this.users = options.users || { alice: `tok-alice-${randomBytes(12).toString('hex')}`, bob: `tok-bob-${randomBytes(12).toString('hex')}` };
    this.appAuth = options.appAuth || 'token';
    const fakeBuilt = existsSync(fakeBedrockPath(this.binDir));
    this.model = options.model || (fakeBuilt ? 'fake-bedrock' : 'demo');
    if (this.model === 'fake-bedrock' && !fakeBuilt) {
      throw new Error(`fake Bedrock not built at ${fakeBedrockPath(this.binDir)}`);
    }
    this.hubRedis = Boolean(options.hubRedis);
    this.extraOrigins = options.extraOrigins || [];
    this.drainMs = options.drainMs || 10_000;
    this.drainTimeout = `${this.drainMs}ms`;
    this.secrets = {
      publisherKey: randomBytes(32).toString('hex'),
      subscriberKey: randomBytes(32).toString('hex'),
      awsAccessKeyId: 'AKIDSUITEE2E' + randomBytes(4).toString('hex').toUpperCase(),
      awsSecretAccessKey: randomBytes(20).toString('base64'),
    };
    this.tableName = `suite-e2e-${randomBytes(3).toString('hex')}`;
    this.namespace = null;
    this.processes = {};
    this.onExit_ = () => this.destroySync();
  }

  static async start(options = {}) {
    const stack = new ProductionLikeStack(options);
    try {
      await stack.start();
    } catch (err) {
      const logs = stack.describeLogs();
      await stack.stop();
      err.message += `\n${logs}`;
      throw err;
    }
    return stack;
  }

  get edgeUrl() {
    return `https://${this.namespace.taskAddress}`;
  }

  get edgeHttpUrl() {
    return `http://${this.namespace.taskAddress}`;
  }

  get caCertPath() {
    return this.tls.caPath;
  }

  async start() {
    process.on('exit', this.onExit_);
    this.namespace = NetworkNamespace.create();
    const edge = writeEdgeConfig({
      runDir: this.runDir,
      address: this.namespace.taskAddress,
      ports: EDGE_PORTS,
      appUpstream: `127.0.0.1:${TASK_PORTS.app}`,
      hubUpstream: `127.0.0.1:${TASK_PORTS.hub}`,
    });
    this.tls = edge.tls;
    this.edgeConfPath = edge.confPath;
    if (this.appAuth === 'token') this.writeTokenFile();
    for (const name of COMPONENTS) {
      if (name === 'model' && this.model !== 'fake-bedrock') continue;
      if (name === 'redis' && !this.hubRedis) continue;
      this.processes[name] = this.makeProcess(name);
    }
    for (const name of COMPONENTS) {
      if (!this.processes[name]) continue;
      this.processes[name].start();
      await this.waitReady(name);
    }
  }

  writeTokenFile() {
    this.tokenFile = join(this.runDir, 'app_tokens');
    const lines = Object.entries(this.users).map(([user, token]) => `${user} ${token}`);
    writeFileSync(this.tokenFile, lines.join('\n') + '\n', { mode: 0o600 });
  }

  baseEnv() {
    const env = {
      PATH: process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      TZ: 'UTC',
    };
    // Sanitizer builds (scripts/test.sh) read their options from the environment.
    for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
      if (process.env[k]) env[k] = process.env[k];
    }
    return env;
  }

  awsEnv() {
    return {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: this.secrets.awsAccessKeyId,
      AWS_SECRET_ACCESS_KEY: this.secrets.awsSecretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${TASK_PORTS.store}`,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: `http://127.0.0.1:${TASK_PORTS.model}`,
      // Nothing outside the task is reachable; keep SDK-style lookups from trying.
      AWS_EC2_METADATA_DISABLED: 'true',
      // The SDK default, set so that the retry scenarios do not depend on it.
      AWS_MAX_ATTEMPTS: '3',
    };
  }

  componentSpec(name) {
    const extra = (this.options_.extraEnv || {})[name] || {};
    const base = this.baseEnv();
    switch (name) {
      case 'store':
        return {
          argv: [process.execPath, join(this.sourceDir, 'node_modules', 'dynalite', 'cli.js'),
            '--host', '127.0.0.1', '--port', String(TASK_PORTS.store), '--path', join(this.runDir, 'dynalite'),
            '--createTableMs', '50', '--deleteTableMs', '50', '--updateTableMs', '50'],
          env: { ...base, ...extra },
        };
      case 'model':
        return {
          argv: [fakeBedrockPath(this.binDir)],
          env: {
            ...base,
            FAKE_BEDROCK_LISTEN: `127.0.0.1:${TASK_PORTS.model}`,
            FAKE_BEDROCK_ACCESS_KEY_ID: this.secrets.awsAccessKeyId,
            FAKE_BEDROCK_SECRET_ACCESS_KEY: this.secrets.awsSecretAccessKey,
            ...extra,
          },
        };
      case 'redis':
        // As ElastiCache in AWS, but inside the task: loopback only, nothing on disk.
        return {
          argv: ['redis-server', '--bind', '127.0.0.1', '--port', String(TASK_PORTS.redis), '--save', '',
            '--appendonly', 'no', '--protected-mode', 'yes', '--dir', this.runDir],
          env: { ...base, ...extra },
        };
      case 'hub':
        return {
          argv: [join(this.binDir, 'sse_hub', 'sse_hub')],
          env: {
            ...base,
            HUB_LISTEN: `127.0.0.1:${TASK_PORTS.hub}`,
            HUB_DRAIN_TIMEOUT: this.drainTimeout,
            MERCURE_PUBLISHER_JWT_KEY: this.secrets.publisherKey,
            MERCURE_SUBSCRIBER_JWT_KEY: this.secrets.subscriberKey,
            ...(this.hubRedis ? { HUB_REDIS_URL: `redis://127.0.0.1:${TASK_PORTS.redis}` } : {}),
            ...extra,
          },
        };
      case 'agent':
        return {
          argv: [join(this.binDir, 'agent', 'agent')],
          env: {
            ...base,
            ...this.awsEnv(),
            AGENT_LISTEN: `127.0.0.1:${TASK_PORTS.agent}`,
            AGENT_DRAIN_TIMEOUT: this.drainTimeout,
            // Scaled down like the drain: running turns get this long to finish on SIGTERM, then
            // queued updates this long to reach the hub, all inside the drain time.
            AGENT_SHUTDOWN_GRACE: '3s',
            AGENT_PUBLISH_DRAIN_TIMEOUT: '2s',
            AGENT_STORE: 'dynamodb',
            AGENT_DYNAMODB_TABLE: this.tableName,
            AGENT_DYNAMODB_CREATE_TABLE: '1',
            AGENT_MODEL_PROVIDER: this.model === 'fake-bedrock' ? 'bedrock' : 'demo',
            BEDROCK_MODEL_ID: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
            AGENT_HUB_URL: `http://127.0.0.1:${TASK_PORTS.hub}/.well-known/mercure`,
            MERCURE_PUBLISHER_JWT_KEY: this.secrets.publisherKey,
            ...extra,
          },
        };
      case 'app': {
        const env = {
          ...base,
          APP_LISTEN: `127.0.0.1:${TASK_PORTS.app}`,
          APP_DRAIN_TIMEOUT: this.drainTimeout,
          APP_AGENT_URL: `http://127.0.0.1:${TASK_PORTS.agent}`,
          APP_HUB_UPSTREAM: `http://127.0.0.1:${TASK_PORTS.hub}`,
          APP_AUTH: this.appAuth,
          // The browser's origin is the edge's (or a relay's in front of it), not the app's
          // listen address.
          APP_ALLOWED_ORIGINS: [this.edgeUrl, ...this.extraOrigins].join(','),
          MERCURE_SUBSCRIBER_JWT_KEY: this.secrets.subscriberKey,
          ...extra,
        };
        if (this.tokenFile) env.APP_TOKEN_FILE = this.tokenFile;
        return { argv: [join(this.binDir, 'app', 'app')], env };
      }
      case 'edge':
        return { argv: ['/usr/sbin/nginx', '-c', this.edgeConfPath, '-p', this.runDir, '-e', join(this.runDir, 'edge_error.log')], env: { ...base, ...extra } };
      default:
        throw new Error(`unknown component ${name}`);
    }
  }

  makeProcess(name) {
    const spec = this.componentSpec(name);
    return new SupervisedProcess({
      name,
      argv: this.namespace.wrap(spec.argv),
      env: spec.env,
      cwd: this.runDir,
      logPath: join(this.runDir, `${name}.log`),
    });
  }

  // Runs curl inside the task namespace (the view of a process in the task): resolves
  // {status, body}; status 0 means no HTTP answer at all.
  async insideHttp(url, { method = 'GET', headers = {}, body, timeoutMs = 5000 } = {}) {
    const args = ['-sS', '-o', '-', '-w', '\n%{http_code}', '-X', method, '--max-time', String(timeoutMs / 1000)];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    if (body !== undefined) args.push('--data-binary', typeof body === 'string' ? body : JSON.stringify(body));
    args.push(url);
    const argv = this.namespace.wrap(['curl', ...args]);
    let stdout;
    try {
      ({ stdout } = await execFileAsync(argv[0], argv.slice(1), { timeout: timeoutMs + 2000, maxBuffer: 16 << 20 }));
    } catch (err) {
      stdout = err.stdout || '\n0';
    }
    const cut = stdout.lastIndexOf('\n');
    return { status: Number.parseInt(stdout.slice(cut + 1), 10) || 0, body: stdout.slice(0, cut) };
  }

  // Runs a command inside the task namespace; resolves with its stdout ('' when it failed).
  async insideRun(argv, timeoutMs = 5000) {
    const wrapped = this.namespace.wrap(argv);
    try {
      const { stdout } = await execFileAsync(wrapped[0], wrapped.slice(1), { timeout: timeoutMs, maxBuffer: 16 << 20 });
      return stdout;
    } catch (err) {
      return err.stdout || '';
    }
  }

  // The agent API as seen from inside the task (bypassing app and edge), for checks of what
  // the store holds.
  async agentApi(method, path, { user, body } = {}) {
    const headers = { 'Content-Type': 'application/json' };
    if (user) headers['X-User-Id'] = user;
    const res = await this.insideHttp(`http://127.0.0.1:${TASK_PORTS.agent}${path}`, { method, headers, body });
    let json;
    try {
      json = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      json = undefined;
    }
    return { ...res, json };
  }

  // Appends scripted answers to the fake Bedrock (see tests/fakes/fake_bedrock.h): each is used
  // once, in order, before it falls back to its default answers.
  async scriptModel(responses) {
    const res = await this.insideHttp(`http://127.0.0.1:${TASK_PORTS.model}/_fake/script`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: responses,
    });
    if (res.status < 200 || res.status >= 300) throw new Error(`scripting the fake Bedrock: ${res.status} ${res.body}`);
  }

  async resetModel() {
    await this.insideHttp(`http://127.0.0.1:${TASK_PORTS.model}/_fake/reset`, { method: 'POST', body: '' });
  }

  // The signed model calls the fake Bedrock received: [{path, model_id, stream, body}].
  async modelRequests() {
    const res = await this.insideHttp(`http://127.0.0.1:${TASK_PORTS.model}/_fake/requests`);
    return JSON.parse(res.body);
  }

  readinessUrl(name) {
    switch (name) {
      case 'redis': return null; // not HTTP: see waitReady
      case 'store': return `http://127.0.0.1:${TASK_PORTS.store}/`;
      case 'model': return `http://127.0.0.1:${TASK_PORTS.model}/healthz`;
      case 'hub': return `http://127.0.0.1:${TASK_PORTS.hub}/healthz`;
      // Ready means the store (its table made) and the hub answer, not just the process.
      case 'agent': return `http://127.0.0.1:${TASK_PORTS.agent}/readyz`;
      case 'app': return `http://127.0.0.1:${TASK_PORTS.app}/healthz`;
      case 'edge': return `http://${this.namespace.taskAddress}:${EDGE_PORTS.http}/healthz`;
      default: throw new Error(`unknown component ${name}`);
    }
  }

  // Waits until the component answers over HTTP (the store answers anything; the others with
  // 2xx/3xx on their health path). Fails early when the process exits.
  async waitReady(name, timeoutMs = READY_TIMEOUT_MS) {
    const proc = this.processes[name];
    const deadline = Date.now() + timeoutMs;
    const url = this.readinessUrl(name);
    let last = { status: 0 };
    while (Date.now() < deadline) {
      if (!proc.running) {
        throw new Error(`${name} exited during start (${JSON.stringify(proc.exit_)}); log:\n${proc.logTail()}`);
      }
      if (name === 'redis') {
        const pong = await this.insideRun(['redis-cli', '-h', '127.0.0.1', '-p', String(TASK_PORTS.redis), 'ping']);
        if (pong.trim() === 'PONG') return;
        await sleep(100);
        continue;
      }
      last = await this.insideHttp(url, { timeoutMs: 2000 });
      const ok = name === 'store' ? last.status > 0 : last.status >= 200 && last.status < 400;
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`${name} not ready within ${timeoutMs} ms (last status ${last.status}); log:\n${proc.logTail()}`);
  }

  // Stops one component with a signal (SIGKILL for a crash) and waits for the exit.
  async stopComponent(name, { signal = 'SIGTERM', graceMs = 15_000 } = {}) {
    return this.processes[name].stop({ signal, graceMs });
  }

  async startComponent(name) {
    this.processes[name].start();
    await this.waitReady(name);
  }

  async restartComponent(name, { signal = 'SIGTERM', downMs = 0 } = {}) {
    const result = await this.stopComponent(name, { signal });
    if (downMs) await sleep(downMs);
    await this.startComponent(name);
    return result;
  }

  // SIGTERM to the three executables at once, as ECS does on a task stop; resolves with each
  // one's exit and how long it took.
  async terminateExecutables({ graceMs = 30_000 } = {}) {
    const names = ['app', 'agent', 'hub'];
    const results = await Promise.all(names.map((n) => this.processes[n].stop({ signal: 'SIGTERM', graceMs })));
    return Object.fromEntries(names.map((n, i) => [n, results[i]]));
  }

  // The edge's access log, one object per request: {request_id, method, uri, status, upstream}.
  edgeAccessLog() {
    let text = '';
    try {
      text = readFileSync(join(this.runDir, 'edge_access.log'), 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  }

  // Log lines of one executable that carry the given request id (as the shared logger writes it).
  logLinesWithRequestId(name, requestId) {
    return this.processes[name].logText().split('\n').filter((line) => line.includes(requestId));
  }

  describeLogs(bytes = 1500) {
    return Object.values(this.processes)
      .map((p) => `--- ${p.name} (${p.logPath}) ---\n${p.logTail(bytes)}`)
      .join('\n');
  }

  // Stops everything (edge first, store last) and removes the namespace. Keeps the run folder
  // (logs) unless removeRunDir.
  async stop() {
    const names = Object.keys(this.processes).reverse();
    for (const name of names) {
      await this.processes[name].stop({ signal: name === 'edge' ? 'SIGQUIT' : 'SIGTERM', graceMs: 10_000 });
    }
    this.destroySync();
  }

  destroySync() {
    for (const proc of Object.values(this.processes)) proc.killNow();
    if (this.namespace) this.namespace.destroy();
    process.removeListener('exit', this.onExit_);
  }
}
