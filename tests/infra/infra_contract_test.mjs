// The three places that describe the running service — the C++ code, compose.yaml and the ECS
// task definition — agree on ports, health-check paths, setting names (each checked against the
// settings the executable's config readers read), start order, read-only roots, the table's keys
// and the DynamoDB operations the task role allows. Offline: no Docker engine, no AWS.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { effectiveModuleVariable } from './terraform_tree.mjs';
import { readCodeContract, unreadSettings, ContractError, EXECUTABLES } from './code_contract.mjs';
import { interpolationsIn, environmentOf, dependsOnOf, healthUrl } from './compose_model.mjs';
import { parseDockerfile } from './dockerfile_model.mjs';
import { CONTAINERS, ROOT, loadDeployment } from './infra_deployment.mjs';

// The DynamoDB store's sources (agent/src/store/dynamodb_*.cpp), where it calls operations.
const dynamoStoreSource = () => fs.readdirSync(path.join(ROOT, 'agent/src/store'))
  .filter((f) => /^dynamodb_.*\.cpp$/.test(f)).sort()
  .map((f) => fs.readFileSync(path.join(ROOT, 'agent/src/store', f), 'utf8')).join('\n');

// Set only in compose: locally there is no task role (static keys for dynamodb-local), the store
// and model endpoints are overridable, the table is created on start, and the SQLite path is
// kept for switching to AGENT_STORE=sqlite. In AWS the task role, the real endpoints and
// Terraform's table take their place. The OpenAI-compatible provider is offered locally (a
// self-hosted model server); the ECS task runs Bedrock under its task role.
const COMPOSE_ONLY = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AGENT_DYNAMODB_CREATE_TABLE', 'AGENT_SQLITE_PATH',
  'OPENAI_BASE_URL', 'OPENAI_MODEL', 'OPENAI_API_KEY']);

// Set only in the ECS task: several tasks run several hubs that share updates through Redis
// (locally one hub needs none); only there is the app behind HTTPS (HSTS) and an ALB that signs
// users in (the ALB's ARN and the ELB key server for APP_AUTH=alb-oidc).
const ECS_ONLY = new Set(['HUB_REDIS_URL', 'APP_HSTS', 'APP_OIDC_SIGNER_ARN', 'APP_OIDC_KEYS_URL']);

function portOf(listen) {
  return Number(String(listen).slice(String(listen).lastIndexOf(':') + 1));
}

let modules;   // name -> loadTerraformDir model
let envs;      // name -> model
let code;      // executable -> {settings, listen, paths}
let compose;   // {raw, env, resolved}
let ecs;       // containers of the task definition, resolved

before(async () => {
  ({ modules, envs, code, compose, ecs } = await loadDeployment());
});

describe('code, compose.yaml and the ECS task definition agree', () => {
  test('the code declares a listen setting with a default port for each executable', () => {
    for (const exe of EXECUTABLES) {
      assert.ok(code[exe].listen, `${exe}: no read_server_config(source, "PREFIX", "host:port") found in ${exe}/`);
      assert.ok(code[exe].listen.port > 0, `${exe}: default listen ${code[exe].listen.default} has no port`);
      assert.ok(code[exe].paths.has('/healthz'), `${exe}: serves no GET /healthz`);
    }
  });

  test('compose runs app, agent and sse_hub in app\'s namespace with only app published', () => {
    const s = compose.resolved.services;
    for (const c of Object.keys(CONTAINERS)) assert.ok(s[c], `compose has no service ${c}`);
    assert.equal(s.agent.network_mode, 'service:app');
    assert.equal(s.sse_hub.network_mode, 'service:app');
    assert.equal(s.agent.ports, undefined, 'agent shares app\'s namespace and cannot publish ports');
    assert.equal(s.sse_hub.ports, undefined, 'sse_hub shares app\'s namespace and cannot publish ports');
    const published = (s.app.ports ?? []).map((p) => Number(String(p).split(':').pop()));
    assert.deepEqual(published, [code.app.listen.port], 'app must publish exactly its listen port');
  });

  test('each container listens on the port the code defaults to, in compose, ECS, the ALB and the Dockerfile', () => {
    const dockerfile = parseDockerfile(path.join(ROOT, 'Dockerfile'));
    for (const [container, exe] of Object.entries(CONTAINERS)) {
      const { setting, port } = code[exe].listen;
      const composeEnv = environmentOf(compose.resolved.services[container]);
      const task = ecs.find((c) => c.name === container);
      assert.ok(task, `ECS task has no container ${container}`);
      assert.equal(portOf(composeEnv[setting]), port, `compose ${container}: ${setting}=${composeEnv[setting]} but the code's default port is ${port}`);
      assert.equal(portOf(task.environment[setting]), port, `ECS ${container}: ${setting}=${task.environment[setting]} but the code's default port is ${port}`);
      assert.ok(dockerfile.stages[container]?.expose.includes(port), `Dockerfile stage ${container} does not EXPOSE ${port}`);
    }
    // What the ALB and the security groups forward to.
    const env = Object.values(envs)[0];
    assert.equal(effectiveModuleVariable(env, 'alb', modules.alb, 'app_port'), code.app.listen.port);
    assert.equal(effectiveModuleVariable(env, 'alb', modules.alb, 'hub_port'), code.sse_hub.listen.port);
    assert.deepEqual(effectiveModuleVariable(env, 'security', modules.security, 'task_ports'),
      { app: code.app.listen.port, sse_hub: code.sse_hub.listen.port });
    const app = ecs.find((c) => c.name === 'app');
    const hub = ecs.find((c) => c.name === 'sse_hub');
    assert.deepEqual(app.portMappings.map((p) => p.containerPort), [code.app.listen.port]);
    assert.deepEqual(hub.portMappings.map((p) => p.containerPort), [code.sse_hub.listen.port]);
    assert.deepEqual(ecs.find((c) => c.name === 'agent').portMappings, [], 'the agent must not be reachable from outside the task');
    const lbc = modules.ecs.outputs.load_balanced_containers.value;
    assert.deepEqual(lbc, { app: { container_name: 'app', container_port: code.app.listen.port },
      sse_hub: { container_name: 'sse_hub', container_port: code.sse_hub.listen.port } });
  });

  test('URLs between the containers point at the other containers\' listen ports', () => {
    for (const [where, envOf] of [
      ['compose', (c) => environmentOf(compose.resolved.services[c])],
      ['ECS', (c) => ecs.find((x) => x.name === c).environment],
    ]) {
      const app = envOf('app');
      const agent = envOf('agent');
      assert.equal(Number(new URL(app.APP_AGENT_URL).port), code.agent.listen.port, `${where}: APP_AGENT_URL`);
      assert.equal(Number(new URL(app.APP_HUB_UPSTREAM).port), code.sse_hub.listen.port, `${where}: APP_HUB_UPSTREAM`);
      const hubUrl = new URL(agent.AGENT_HUB_URL);
      assert.equal(Number(hubUrl.port), code.sse_hub.listen.port, `${where}: AGENT_HUB_URL`);
      assert.equal(hubUrl.pathname, '/.well-known/mercure', `${where}: AGENT_HUB_URL path`);
      assert.equal(agent.AGENT_STORE, 'dynamodb', `${where}: the agent runs on the DynamoDB store`);
    }
  });

  test('health checks probe the same port and path in compose and ECS, and the code serves that path', () => {
    const env = Object.values(envs)[0];
    const albPath = effectiveModuleVariable(env, 'alb', modules.alb, 'health_check_path');
    for (const [container, exe] of Object.entries(CONTAINERS)) {
      const composeUrl = healthUrl(compose.resolved.services[container].healthcheck?.test ?? '');
      const task = ecs.find((c) => c.name === container);
      assert.ok(composeUrl, `compose ${container}: no HTTP health check`);
      assert.ok(task.healthUrl, `ECS ${container}: no HTTP health check`);
      assert.equal(Number(composeUrl.port), code[exe].listen.port, `compose ${container}: health check port`);
      assert.equal(Number(task.healthUrl.port), code[exe].listen.port, `ECS ${container}: health check port`);
      assert.equal(task.healthUrl.pathname, composeUrl.pathname, `${container}: compose and ECS probe different paths`);
      assert.ok(code[exe].paths.has(composeUrl.pathname), `${container}: the code serves no GET ${composeUrl.pathname}`);
      if (container !== 'agent') assert.equal(albPath, composeUrl.pathname, `ALB health check path differs for ${container}`);
    }
  });

  test('compose and ECS pass the same settings to each container (local-only ones named)', () => {
    for (const container of Object.keys(CONTAINERS)) {
      const task = ecs.find((c) => c.name === container);
      const inEcs = new Set([...Object.keys(task.environment), ...Object.keys(task.secrets)]);
      const inCompose = new Set(Object.keys(environmentOf(compose.resolved.services[container])));
      const onlyCompose = [...inCompose].filter((n) => !inEcs.has(n) && !COMPOSE_ONLY.has(n));
      const onlyEcs = [...inEcs].filter((n) => !inCompose.has(n) && !ECS_ONLY.has(n));
      assert.deepEqual(onlyCompose, [], `${container}: set in compose.yaml but not in the ECS task`);
      assert.deepEqual(onlyEcs, [], `${container}: set in the ECS task but not in compose.yaml`);
    }
  });

  function settingsPassedTo() {
    return Object.fromEntries(Object.keys(CONTAINERS).map((container) => {
      const task = ecs.find((c) => c.name === container);
      return [container, new Set([...Object.keys(task.environment), ...Object.keys(task.secrets),
        ...Object.keys(environmentOf(compose.resolved.services[container]))])];
    }));
  }

  test('every setting compose and ECS pass is one that a config reader of the container\'s code reads', () => {
    assert.deepEqual(unreadSettings(code, settingsPassedTo(), CONTAINERS), [],
      'settings no config reader reads (renamed, misspelled, or meant for another container?)');
  });

  test('self-test: a setting no reader of that executable reads fails the check, even when the name is in its sources', () => {
    const passed = settingsPassedTo();
    // AWS_ENDPOINT_URL_<SERVICE> is read for the services libshared knows only (no APP service);
    // "/healthz" style literals and error messages elsewhere must not count either.
    passed.app.add('AWS_ENDPOINT_URL_APP');
    passed.app.add('AGENT_STORE');
    passed.sse_hub.add('HUB_REDIS_ULR');
    assert.deepEqual(unreadSettings(code, passed, CONTAINERS).sort(),
      ['app: AGENT_STORE', 'app: AWS_ENDPOINT_URL_APP', 'sse_hub: HUB_REDIS_ULR']);
    // And what the readers do read is there, for the right executable only.
    assert.ok(code.agent.settings.has('AGENT_DYNAMODB_TABLE') && !code.app.settings.has('AGENT_DYNAMODB_TABLE'));
    // Keys may come from Secrets Manager: each executable reads <KEY>_SECRET_ARN for its own keys,
    // and then the AWS settings (region, credentials, the Secrets Manager endpoint).
    assert.ok(code.app.settings.has('MERCURE_SUBSCRIBER_JWT_KEY_SECRET_ARN') && !code.app.settings.has('MERCURE_PUBLISHER_JWT_KEY_SECRET_ARN'));
    assert.ok(code.sse_hub.settings.has('MERCURE_PUBLISHER_JWT_KEY_SECRET_ARN') && code.sse_hub.settings.has('AWS_ENDPOINT_URL_SECRETS_MANAGER'));
    assert.ok(code.sse_hub.settings.has('MERCURE_SUBSCRIBER_JWT_KEY') && !code.agent.settings.has('MERCURE_SUBSCRIBER_JWT_KEY'));
    assert.ok(code.app.settings.has('APP_DRAIN_TIMEOUT'), 'read_server_config(source, "APP", ...) reads APP_DRAIN_TIMEOUT');
  });

  test('self-test: the contract reads only readers, and refuses a read whose name it cannot work out', () => {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'contract-'));
    const write = (rel, text) => {
      fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      fs.writeFileSync(path.join(tree, rel), text);
    };
    try {
      write('libshared/src/config.cpp', 'LogConfig read_log_config(const ConfigSource& source) { c.level = source.string("LOG_LEVEL", "info"); return c; }\n');
      write('app/src/app_config.cpp', [
        'namespace { std::string with_prefix(const ConfigSource& src, const std::string& what) {',
        '  const std::string name = "APP_" + what; return src.string(name, ""); } }',
        'AppConfig read_app_config(const shared::ConfigSource& source) {',
        '  c.log = shared::read_log_config(source);',
        '  c.listen = source.listen("APP_LISTEN", "0.0.0.0:8080");',
        '  c.limit = source.integer("APP_LIMIT", 100\'000, 1, 10\'000\'000);',
        '  c.token = with_prefix(source, "TOKEN");',
        '  throw ConfigError("APP_NOT_A_SETTING", "only in a message"); // "APP_IN_A_COMMENT"',
        '}',
        'void elsewhere() { getenv("APP_OUTSIDE_READERS"); }',
      ].join('\n'));
      const made = readCodeContract(tree, ['app']);
      assert.deepEqual([...made.app.settings].sort(), ['APP_LIMIT', 'APP_LISTEN', 'APP_TOKEN', 'LOG_LEVEL']);
      assert.deepEqual(made.app.listen, { setting: 'APP_LISTEN', default: '0.0.0.0:8080', port: 8080 });
      write('app/src/app_config.cpp', 'AppConfig read_app_config(const shared::ConfigSource& source) { c.x = source.string(name_from_somewhere(), ""); }\n');
      assert.throws(() => readCodeContract(tree, ['app']), ContractError);
      write('app/src/app_config.cpp', 'AppConfig read_app_config(const shared::ConfigSource& source) { c.x = read_unknown(source); }\n');
      assert.throws(() => readCodeContract(tree, ['app']), /no config reader/);
    } finally {
      fs.rmSync(tree, { recursive: true, force: true });
    }
  });

  test('compose and ECS give each container the same read-only root file system', () => {
    for (const container of Object.keys(CONTAINERS)) {
      const task = ecs.find((c) => c.name === container);
      const svc = compose.resolved.services[container];
      assert.equal(task.readonlyRootFilesystem, true, `ECS ${container}: readonlyRootFilesystem`);
      assert.equal(svc.read_only === true, task.readonlyRootFilesystem, `compose ${container}: read_only differs from the ECS task`);
      // A writable place in one and not the other would let a write work locally and fail in AWS.
      assert.equal(svc.tmpfs, undefined, `compose ${container}: tmpfs has no counterpart in the task definition`);
    }
  });

  test('the table Terraform creates has the key schema and TTL attribute the agent\'s store uses', () => {
    const store = dynamoStoreSource();
    const keyOf = (type) => store.match(new RegExp(`\\{"AttributeName",\\s*"([^"]+)"\\},\\s*\\{"KeyType",\\s*"${type}"\\}`))?.[1];
    const ttl = store.match(/"TimeToLiveSpecification"[^;]*?"AttributeName",\s*"([^"]+)"/)?.[1];
    assert.ok(keyOf('HASH') && keyOf('RANGE') && ttl, 'cannot find the CreateTable key schema and TTL attribute in the agent\'s DynamoDB store');
    const env = Object.values(envs)[0];
    assert.equal(effectiveModuleVariable(env, 'dynamodb', modules.dynamodb, 'hash_key'), keyOf('HASH'));
    assert.equal(effectiveModuleVariable(env, 'dynamodb', modules.dynamodb, 'range_key'), keyOf('RANGE'));
    assert.equal(effectiveModuleVariable(env, 'dynamodb', modules.dynamodb, 'ttl_attribute'), ttl);
  });

  test('the table Terraform creates has the lock index the agent\'s store queries and creates', () => {
    const items = fs.readFileSync(path.join(ROOT, 'agent/src/store/dynamodb_items.h'), 'utf8');
    const constant = (name) => items.match(new RegExp(`${name} = "([^"]+)"`))?.[1];
    const [name, hash, range] = ['kLockIndex', 'kLockIndexHash', 'kLockIndexRange'].map(constant);
    assert.ok(name && hash && range, 'cannot find the lock index constants in dynamodb_items.h');
    const store = dynamoStoreSource();
    assert.match(store, /"GlobalSecondaryIndexes"[\s\S]*"IndexName", kLockIndex/, 'CreateTable does not create the lock index');
    assert.match(store, /"IndexName", kLockIndex\}[\s\S]*KeyConditionExpression/, 'the store does not query the lock index');
    const t = modules.dynamodb.resources.aws_dynamodb_table.this;
    const gsi = t.global_secondary_index ?? [];
    assert.equal(gsi.length, 1, 'the table has no (or more than one) global secondary index');
    assert.equal(gsi[0].name, name);
    assert.equal(gsi[0].hash_key, hash);
    assert.equal(gsi[0].range_key, range);
    assert.equal(gsi[0].projection_type, 'ALL');
    const types = Object.fromEntries(t.attribute.map((a) => [a.name, a.type]));
    assert.equal(types[hash], 'S');
    assert.equal(types[range], 'N');
  });

  test('the task role allows exactly the DynamoDB operations the agent\'s store calls', () => {
    const store = dynamoStoreSource();
    // Creating the table is for local use (AGENT_DYNAMODB_CREATE_TABLE); Terraform owns it in AWS.
    const tableAdmin = new Set(['CreateTable', 'UpdateTimeToLive']);
    const called = new Set([...store.matchAll(/\bcall\(\s*"([A-Za-z]+)"/g)].map((m) => m[1]).filter((op) => !tableAdmin.has(op)));
    assert.ok(called.size > 0, 'found no DynamoDB operations in the agent\'s store');
    const statement = modules.iam.data.aws_iam_policy_document.task.statement.find((st) => st.sid === 'SessionStore');
    const allowed = new Set(statement.actions.map((a) => a.replace(/^dynamodb:/, '')));
    assert.deepEqual([...allowed].sort(), [...called].sort());
  });

  test('secrets come from Secrets Manager fields the secrets module creates', () => {
    const fields = new Set(modules.secrets.variables.generated_keys.default);
    for (const c of ecs) {
      for (const [name, from] of Object.entries(c.secrets)) {
        assert.ok(fields.has(name), `ECS ${c.name}: secret ${name} is not a field of the secret`);
        assert.match(from, /secret_value_from\[/, `ECS ${c.name}: ${name} must come from Secrets Manager`);
      }
    }
  });

  test('start order: app first and essential, the agent waits for a healthy hub, as in compose', () => {
    assert.equal(ecs[0].name, 'app');
    assert.equal(ecs[0].essential, true);
    const conditionOf = { service_started: 'START', service_healthy: 'HEALTHY', service_completed_successfully: 'SUCCESS' };
    for (const container of Object.keys(CONTAINERS)) {
      const task = ecs.find((c) => c.name === container);
      const fromEcs = Object.fromEntries(task.dependsOn.map((d) => [d.containerName, d.condition]));
      const fromCompose = Object.fromEntries(Object.entries(dependsOnOf(compose.resolved.services[container]))
        .filter(([s]) => CONTAINERS[s])
        .map(([s, cond]) => [s, conditionOf[cond]]));
      assert.deepEqual(fromEcs, fromCompose, `${container}: ECS dependsOn and compose depends_on differ`);
      for (const [dep, cond] of Object.entries(fromEcs)) {
        if (cond === 'HEALTHY') assert.ok(ecs.find((c) => c.name === dep).healthUrl, `${dep} has no health check to wait for`);
      }
    }
  });

  test('compose: a DynamoDB-compatible store with a health check, reached by service name', () => {
    const s = compose.resolved.services;
    const agentEnv = environmentOf(s.agent);
    const endpoint = new URL(agentEnv.AWS_ENDPOINT_URL_DYNAMODB);
    const store = s[endpoint.hostname];
    assert.ok(store, `AWS_ENDPOINT_URL_DYNAMODB names ${endpoint.hostname}, which is not a compose service`);
    assert.ok(store.healthcheck, 'the store has no health check');
    assert.equal(dependsOnOf(s.agent)[endpoint.hostname], 'service_healthy');
    assert.ok(store.volumes?.length, 'the store keeps no data volume');
    assert.ok(s.agent.volumes?.length, 'the agent keeps no data volume');
  });

  test('compose: every service has a health check, every service_healthy target has one', () => {
    const s = compose.resolved.services;
    for (const [name, svc] of Object.entries(s)) {
      assert.ok(svc.healthcheck?.test, `${name} has no health check`);
      for (const [dep, cond] of Object.entries(dependsOnOf(svc))) {
        assert.ok(s[dep], `${name} depends on unknown service ${dep}`);
        if (cond === 'service_healthy') assert.ok(s[dep].healthcheck, `${name} waits for ${dep} to be healthy, which has no health check`);
      }
    }
  });

  test('compose: every ${VAR} is in .env.example or has a default; required keys are in .env.example', () => {
    const text = fs.readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8');
    for (const { name, op } of interpolationsIn(text)) {
      if (op === ':-' || op === '-') continue;
      assert.ok(compose.env.has(name), `compose.yaml uses \${${name}} without a default and .env.example does not list it`);
    }
  });

  test('compose build targets are Dockerfile stages and the image runs as a non-root user without HEALTHCHECK', () => {
    const dockerfile = parseDockerfile(path.join(ROOT, 'Dockerfile'));
    assert.equal(dockerfile.healthcheck, false, 'health checks belong in compose and the task definition, not the image');
    for (const container of Object.keys(CONTAINERS)) {
      const svc = compose.resolved.services[container];
      assert.equal(svc.build?.target, container, `compose ${container} does not build Dockerfile target ${container}`);
      const stage = dockerfile.stages[container];
      assert.ok(stage, `Dockerfile has no stage ${container}`);
      assert.ok(stage.user && !/^(0|root)(:|$)/.test(stage.user), `stage ${container} runs as ${stage.user ?? 'root'}`);
      assert.match(stage.entrypoint ?? '', new RegExp(`/${container}"`), `stage ${container} does not run ${container}`);
    }
  });
});
