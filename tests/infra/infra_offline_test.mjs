// Offline checks of the deployment (no Docker engine, no AWS): every Terraform file parses, the
// modules are complete and typed, the environment wires them consistently, and the three places
// that describe the running service — the C++ code, compose.yaml and the ECS task definition —
// agree on ports, health-check paths and setting names. Also the Dockerfile (stages, user,
// runtime libraries of the real executables) and the GitHub workflows.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

import {
  listTfFiles, parseTfFile, loadTerraformDir, effectiveModuleVariable, lowestVersion, atLeast, varReference,
} from './terraform_tree.mjs';
import { readCodeContract, unreadSettings, ContractError, EXECUTABLES } from './code_contract.mjs';
import {
  loadCompose, interpolationsIn, environmentOf, dependsOnOf, healthUrl, parseEnvFile,
} from './compose_model.mjs';
import { parseDockerfile } from './dockerfile_model.mjs';
import { ecsContainers } from './ecs_task.mjs';

const YAML = createRequire(import.meta.url)('yaml');

const ROOT = process.env.SUITE_SOURCE_DIR ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const INFRA = path.join(ROOT, 'infra');
const MODULES_DIR = path.join(INFRA, 'modules');
const ENVS_DIR = path.join(INFRA, 'envs');

// The modules issue 7 asks for, plus the network module an empty account needs.
const REQUIRED_MODULES = ['dynamodb', 'ecr', 'observability', 'secrets', 'security', 'ecs', 'dns', 'alb',
  'ecs_service', 'waf', 'alarms', 'iam', 'network'];

// Container (compose service and ECS container) -> executable whose code it runs.
const CONTAINERS = { app: 'app', agent: 'agent', sse_hub: 'sse_hub' };

// Set only in compose: locally there is no task role (static keys for dynamodb-local), the store
// and model endpoints are overridable, the table is created on start, and the SQLite path is
// kept for switching to AGENT_STORE=sqlite. In AWS the task role, the real endpoints and
// Terraform's table take their place.
const COMPOSE_ONLY = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AGENT_DYNAMODB_CREATE_TABLE', 'AGENT_SQLITE_PATH']);

// Set only in the ECS task: several tasks run several hubs that share updates through Redis
// (locally one hub needs none); only there is the app behind HTTPS (HSTS) and an ALB that signs
// users in (the ALB's ARN and the ELB key server for APP_AUTH=alb-oidc).
const ECS_ONLY = new Set(['HUB_REDIS_URL', 'APP_HSTS', 'APP_OIDC_SIGNER_ARN', 'APP_OIDC_KEYS_URL']);

const MODULE_META_ARGUMENTS = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);

let modules;   // name -> loadTerraformDir model
let envs;      // name -> model
let code;      // executable -> {settings, listen, paths}
let compose;   // {raw, env, resolved}
let ecs;       // containers of the task definition, resolved

function portOf(listen) {
  return Number(String(listen).slice(String(listen).lastIndexOf(':') + 1));
}

before(async () => {
  modules = {};
  for (const name of fs.readdirSync(MODULES_DIR).sort()) {
    if (fs.statSync(path.join(MODULES_DIR, name)).isDirectory()) {
      modules[name] = await loadTerraformDir(path.join(MODULES_DIR, name));
    }
  }
  envs = {};
  for (const name of fs.readdirSync(ENVS_DIR).sort()) {
    if (fs.statSync(path.join(ENVS_DIR, name)).isDirectory()) envs[name] = await loadTerraformDir(path.join(ENVS_DIR, name));
  }
  code = readCodeContract(ROOT);
  // .env.example leaves the keys empty for the user to fill in; a filled-in copy is what runs.
  compose = loadCompose(path.join(ROOT, 'compose.yaml'), path.join(ROOT, '.env.example'), {
    fillRequired: 'filled-in-by-the-user',
  });
  ecs = ecsContainers(modules.ecs);
});

describe('terraform files', () => {
  test('every .tf file under infra/ parses as HCL', async () => {
    const files = listTfFiles(INFRA);
    assert.ok(files.length > 30, `expected the modules' files, found ${files.length}`);
    const failures = [];
    for (const f of files) {
      try {
        await parseTfFile(f);
      } catch (e) {
        failures.push(`${path.relative(ROOT, f)}: ${e.message}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  test('every required module exists with main.tf, variables.tf, outputs.tf and versions.tf', () => {
    for (const m of REQUIRED_MODULES) assert.ok(modules[m], `infra/modules/${m} is missing`);
    for (const [name, dir] of Object.entries(modules)) {
      for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']) {
        assert.ok(fs.existsSync(path.join(dir.dir, f)), `infra/modules/${name}/${f} is missing`);
      }
      assert.ok(Object.keys(dir.outputs).length > 0, `infra/modules/${name} has no outputs`);
    }
    assert.ok(Object.keys(envs).length > 0, 'no environment under infra/envs/');
  });

  test('every variable has a type and a description, every output a description', () => {
    const problems = [];
    for (const [where, dir] of [...Object.entries(modules).map(([k, v]) => [`modules/${k}`, v]),
      ...Object.entries(envs).map(([k, v]) => [`envs/${k}`, v])]) {
      for (const [name, v] of Object.entries(dir.variables)) {
        if (!v.type) problems.push(`${where}: variable "${name}" has no type`);
        if (!v.description || !String(v.description).trim()) problems.push(`${where}: variable "${name}" has no description`);
      }
      for (const [name, o] of Object.entries(dir.outputs)) {
        if (!o.description || !String(o.description).trim()) problems.push(`${where}: output "${name}" has no description`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('versions.tf requires Terraform >= 1.5 and the AWS provider >= 5 everywhere', () => {
    for (const [where, dir] of [...Object.entries(modules), ...Object.entries(envs)]) {
      const tf = dir.files['versions.tf']?.terraform?.[0];
      assert.ok(tf, `${where}: versions.tf has no terraform block`);
      assert.ok(atLeast(lowestVersion(tf.required_version), [1, 5]), `${where}: required_version ${tf.required_version} admits Terraform older than 1.5`);
      const aws = tf.required_providers?.[0]?.aws;
      assert.ok(aws, `${where}: no aws in required_providers`);
      assert.equal(aws.source, 'hashicorp/aws', `${where}: aws provider source`);
      assert.ok(atLeast(lowestVersion(aws.version), [5, 0]), `${where}: aws provider ${aws.version} admits versions before 5`);
    }
  });

  test('var.*, local.* and module.*.* references resolve to declarations', () => {
    const problems = [];
    const all = [...Object.entries(modules).map(([k, v]) => [`modules/${k}`, v]), ...Object.entries(envs).map(([k, v]) => [`envs/${k}`, v])];
    for (const [where, dir] of all) {
      const text = dir.text.replace(/^\s*#.*$/gm, '');
      for (const m of text.matchAll(/\bvar\.([A-Za-z0-9_]+)/g)) {
        if (!dir.variables[m[1]]) problems.push(`${where}: var.${m[1]} is not declared`);
      }
      for (const m of text.matchAll(/\blocal\.([A-Za-z0-9_]+)/g)) {
        if (!Object.hasOwn(dir.locals, m[1])) problems.push(`${where}: local.${m[1]} is not declared`);
      }
      for (const m of text.matchAll(/\bmodule\.([A-Za-z0-9_]+)(?:\[[^\]]*\])?\.([A-Za-z0-9_]+)/g)) {
        const call = dir.modules[m[1]];
        if (!call) { problems.push(`${where}: module.${m[1]} is not declared`); continue; }
        const target = modules[path.basename(String(call.source))];
        if (target && !target.outputs[m[2]]) problems.push(`${where}: module.${m[1]} has no output "${m[2]}"`);
      }
    }
    assert.deepEqual([...new Set(problems)], []);
  });

  test('each environment calls every module with declared arguments and all required ones', () => {
    for (const [envName, env] of Object.entries(envs)) {
      const called = new Set();
      for (const [callName, call] of Object.entries(env.modules)) {
        const source = path.resolve(env.dir, String(call.source));
        assert.ok(source.startsWith(MODULES_DIR + path.sep), `envs/${envName}: module "${callName}" source ${call.source} is not under infra/modules`);
        const target = modules[path.basename(source)];
        assert.ok(target, `envs/${envName}: module "${callName}" source ${call.source} does not exist`);
        called.add(path.basename(source));
        for (const arg of Object.keys(call)) {
          if (MODULE_META_ARGUMENTS.has(arg)) continue;
          assert.ok(target.variables[arg], `envs/${envName}: module "${callName}" gets "${arg}", which ${call.source} does not declare`);
        }
        for (const [v, def] of Object.entries(target.variables)) {
          if (!Object.hasOwn(def, 'default')) {
            assert.ok(Object.hasOwn(call, v), `envs/${envName}: module "${callName}" is missing required variable "${v}"`);
          }
        }
      }
      for (const m of REQUIRED_MODULES) assert.ok(called.has(m), `envs/${envName} does not use module ${m}`);
    }
  });

  test('terraform fmt and validate pass (when a terraform binary is on this machine)', (t) => {
    const probe = spawnSync('terraform', ['version'], { encoding: 'utf8', timeout: 20_000 });
    if (probe.error || probe.status !== 0) {
      t.skip('no terraform binary here; the parse and structure checks above stand in for it, and the Terraform workflow runs fmt and validate');
      return;
    }
    const fmt = spawnSync('terraform', ['fmt', '-check', '-recursive', '-diff', INFRA], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(fmt.status, 0, `terraform fmt -check found unformatted files:\n${fmt.stdout}${fmt.stderr}`);
    const mirror = process.env.SUITE_TF_PLUGIN_MIRROR ?? '/opt/tf-plugins';
    if (!fs.existsSync(mirror)) {
      t.diagnostic(`terraform validate not run: no provider mirror at ${mirror} and no registry access`);
      return;
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'infra-validate-'));
    try {
      const rc = path.join(work, 'terraformrc');
      fs.writeFileSync(rc, `provider_installation {\n  filesystem_mirror {\n    path = "${mirror}"\n  }\n}\n`);
      for (const envName of Object.keys(envs)) {
        const env = { ...process.env, TF_CLI_CONFIG_FILE: rc, TF_DATA_DIR: path.join(work, envName), TF_IN_AUTOMATION: '1' };
        const dir = path.join(ENVS_DIR, envName);
        const init = spawnSync('terraform', [`-chdir=${dir}`, 'init', '-backend=false', '-input=false', '-no-color', '-lockfile=readonly'],
          { env, encoding: 'utf8', timeout: 120_000 });
        assert.equal(init.status, 0, `terraform init (envs/${envName}) failed:\n${init.stdout}${init.stderr}`);
        const validate = spawnSync('terraform', [`-chdir=${dir}`, 'validate', '-no-color'], { env, encoding: 'utf8', timeout: 120_000 });
        assert.equal(validate.status, 0, `terraform validate (envs/${envName}) failed:\n${validate.stdout}${validate.stderr}`);
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('terraform modules do what the issue asks', () => {
  test('ecr: one repository per image, scan on push, lifecycle keeps the last 10', () => {
    const m = modules.ecr;
    const repo = m.resources.aws_ecr_repository.this;
    assert.equal(repo.image_scanning_configuration[0].scan_on_push, true);
    assert.deepEqual(m.variables.repositories.default, EXECUTABLES);
    assert.equal(m.variables.keep_images.default, 10);
    const policy = m.resources.aws_ecr_lifecycle_policy.this.policy;
    assert.match(policy, /imageCountMoreThan/);
    assert.match(policy, /countNumber\s*=\s*var\.keep_images/);
  });

  test('alb: HTTP redirects to HTTPS, TLS 1.2+, hub rule, dropped invalid headers, SSE idle timeout, /healthz, stickiness', () => {
    const m = modules.alb;
    const lb = m.resources.aws_lb.this;
    assert.equal(lb.drop_invalid_header_fields, true);
    assert.ok(m.variables.idle_timeout.default >= 300, 'idle timeout too short for SSE');
    const http = m.resources.aws_lb_listener.http;
    assert.equal(http.port, 80);
    assert.equal(http.default_action[0].type, 'redirect');
    assert.equal(http.default_action[0].redirect[0].protocol, 'HTTPS');
    const https = m.resources.aws_lb_listener.https;
    assert.equal(https.port, 443);
    assert.equal(https.protocol, 'HTTPS');
    assert.match(m.variables.ssl_policy.default, /^ELBSecurityPolicy-(TLS13-1-2|TLS-1-2)/);
    assert.match(https.default_action[0].target_group_arn, /aws_lb_target_group\.this\["app"\]/);
    const rule = m.resources.aws_lb_listener_rule.hub;
    assert.match(rule.action[0].target_group_arn, /aws_lb_target_group\.this\["sse_hub"\]/);
    assert.equal(varReference(rule.condition[0].path_pattern[0].values[0]), 'hub_path_pattern');
    assert.equal(m.variables.hub_path_pattern.default, '/.well-known/mercure*');
    const tg = m.resources.aws_lb_target_group.this;
    assert.equal(varReference(tg.health_check[0].path), 'health_check_path');
    assert.equal(tg.stickiness[0].type, 'lb_cookie');
    assert.equal(tg.target_type, 'ip');
  });

  test('ecs_service: Fargate in private subnets, circuit breaker with rollback, scaling on CPU and requests', () => {
    const m = modules.ecs_service;
    const svc = m.resources.aws_ecs_service.this;
    assert.equal(svc.launch_type, 'FARGATE');
    assert.equal(svc.network_configuration[0].assign_public_ip, false);
    assert.deepEqual(svc.deployment_circuit_breaker[0], { enable: true, rollback: true });
    const metrics = Object.values(m.resources.aws_appautoscaling_policy)
      .map((p) => p.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type);
    assert.deepEqual(metrics.sort(), ['ALBRequestCountPerTarget', 'ECSServiceAverageCPUUtilization']);
  });

  test('waf: AWS common and known-bad-inputs rule groups, a rate-based rule, logging', () => {
    const m = modules.waf;
    const acl = m.resources.aws_wafv2_web_acl.this;
    const groups = acl.rule.flatMap((r) => r.statement[0].managed_rule_group_statement ?? []).map((s) => s.name);
    assert.deepEqual(groups.sort(), ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']);
    assert.ok(acl.rule.some((r) => r.statement[0].rate_based_statement), 'no rate-based rule');
    assert.ok(m.resources.aws_wafv2_web_acl_logging_configuration?.this, 'no WAF logging');
    assert.ok(m.resources.aws_wafv2_web_acl_association?.alb, 'web ACL not attached to the ALB');
  });

  test('alarms: 5xx, unhealthy hosts, CPU, memory and task count, through SNS', () => {
    const m = modules.alarms;
    const metrics = new Set();
    for (const a of Object.values(m.resources.aws_cloudwatch_metric_alarm)) {
      if (a.metric_name.startsWith('${')) {
        for (const v of Object.values(m.locals.alb_5xx)) metrics.add(v);
      } else {
        metrics.add(a.metric_name);
      }
      assert.match(JSON.stringify(a.alarm_actions), /local\.actions/);
    }
    for (const wanted of ['HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'UnHealthyHostCount',
      'CPUUtilization', 'MemoryUtilization', 'RunningTaskCount']) {
      assert.ok(metrics.has(wanted), `no alarm on ${wanted}`);
    }
    assert.ok(m.resources.aws_sns_topic.alarms);
  });

  test('iam: task role scoped to the table, the models and the secrets; GitHub OIDC roles', () => {
    const m = modules.iam;
    const task = m.data.aws_iam_policy_document.task.statement;
    const bySid = Object.fromEntries(task.filter((s) => s.sid).map((s) => [s.sid, s]));
    assert.deepEqual(bySid.SessionStore.resources, ['${var.dynamodb_table_arn}', '${var.dynamodb_table_arn}/index/*']);
    assert.equal(bySid.Model.resources, '${local.bedrock_resources}');
    assert.equal(bySid.Keys.resources, '${var.secret_arns}');
    for (const s of task) assert.ok(!JSON.stringify(s.actions ?? '').includes('*"'), `wildcard action in ${s.sid}`);
    assert.ok(m.resources.aws_iam_openid_connect_provider.github);
    const trust = m.data.aws_iam_policy_document.github_trust.statement[0];
    assert.equal(trust.actions[0], 'sts:AssumeRoleWithWebIdentity');
    assert.ok(trust.condition.some((c) => c.variable === 'token.actions.githubusercontent.com:sub'));
  });

  test('iam: the deploy role may tag only task definitions it registers, reads one parameter and never the state', () => {
    const deploy = modules.iam.data.aws_iam_policy_document.github_deploy.statement;
    const bySid = Object.fromEntries(deploy.map((st) => [st.sid, st]));
    const tag = bySid.TagNewTaskDefinitions;
    assert.ok(tag, 'no ecs:TagResource statement: RegisterTaskDefinition with tags is refused without it');
    assert.deepEqual(tag.actions, ['ecs:TagResource']);
    assert.deepEqual(tag.condition.map((c) => [c.test, c.variable, c.values]),
      [['StringEquals', 'ecs:CreateAction', ['RegisterTaskDefinition']]]);
    assert.match(tag.resources[0], /:task-definition\/\$\{var\.task_family\}:\*$/);
    assert.deepEqual(bySid.ReadDeployParameter.actions, ['ssm:GetParameter']);
    const actions = deploy.flatMap((st) => st.actions);
    assert.deepEqual(actions.filter((a) => /^(s3|secretsmanager|kms|dynamodb):/.test(a)), [],
      'the deploy role must not read the state bucket, secrets or data');
    // deploy.sh copies the previous revision's tags into RegisterTaskDefinition: default_tags make
    // sure there are some, which is why TagResource is needed at all.
    assert.match(fs.readFileSync(path.join(INFRA, 'deploy.sh'), 'utf8'), /\.tags = \$tags/);
    assert.ok(envs.prod.files['versions.tf'].provider.aws[0].default_tags, 'the provider sets default_tags');
  });

  test('iam: the plan role reads no secret and no conversation; nothing Terraform manages keeps a secret value in the state', () => {
    const plan = modules.iam.data.aws_iam_policy_document.github_state.statement;
    const allowed = plan.filter((st) => st.effect !== 'Deny').flatMap((st) => st.actions);
    assert.deepEqual(allowed.filter((a) => /^secretsmanager:|^kms:Decrypt/.test(a)), []);
    const deny = plan.find((st) => st.effect === 'Deny');
    assert.ok(deny && deny.actions.includes('dynamodb:Scan') && deny.actions.includes('dynamodb:Query'),
      'ReadOnlyAccess reads every table: the plan role must be denied the sessions table');
    assert.ok(deny.resources.includes('${var.dynamodb_table_arn}'));
    for (const [where, dir] of [...Object.entries(modules), ...Object.entries(envs)]) {
      assert.equal(dir.resources.aws_secretsmanager_secret_version, undefined, `${where}: a secret version keeps its value in the state`);
      assert.equal(dir.data.aws_secretsmanager_random_password, undefined, `${where}: a random password data source keeps its value in the state`);
      assert.equal(dir.resources.random_password, undefined, `${where}: random_password keeps its value in the state`);
    }
    // The first keys are stored by the seed script instead, once, from the apply.
    const seed = modules.secrets.resources.terraform_data.seed;
    assert.match(seed.provisioner['local-exec'][0].command, /seed_keys\.sh/);
    const script = path.join(MODULES_DIR, 'secrets', 'seed_keys.sh');
    assert.ok(fs.statSync(script).mode & 0o111, 'seed_keys.sh is not executable');
    assert.match(fs.readFileSync(script, 'utf8'), /AWSCURRENT/, 'seed_keys.sh must leave a secret that has a value alone');
    assert.match(JSON.stringify(modules.secrets.outputs.value_from.depends_on), /terraform_data\.seed/,
      'the task definition must not reference keys before they exist');
  });

  test('alb: the OIDC action is built from a non-sensitive flag (Terraform 1.6-1.9 refuse a sensitive dynamic for_each)', () => {
    const m = modules.alb;
    const dyn = m.resources.aws_lb_listener.https.dynamic.default_action[0];
    assert.doesNotMatch(String(dyn.for_each), /var\.oidc/, 'for_each derived from the sensitive var.oidc');
    const flag = String(dyn.for_each).match(/local\.([a-z_]+)/)?.[1];
    assert.match(String(m.locals[flag]), /^\$\{nonsensitive\(var\.oidc != null\)\}$/);
    assert.equal(m.variables.oidc.sensitive, true);
  });

  test('env: alb-oidc without oidc, or token without a token file, stops the plan; the example config passes that check', async () => {
    const env = envs.prod;
    const conditions = env.outputs.url.precondition.map((p) => p.condition);
    assert.ok(conditions.some((c) => /var\.app_auth != "alb-oidc" \|\| nonsensitive\(var\.oidc != null\)/.test(c)),
      `no precondition ties alb-oidc to oidc: ${conditions}`);
    assert.ok(conditions.some((c) => /var\.app_auth != "token"/.test(c)));
    assert.match(JSON.stringify(env.variables.app_auth.validation), /contains\(\[\\"alb-oidc\\", \\"none\\", \\"token\\"\]/);
    const example = await parseTfFile(path.join(ENVS_DIR, 'prod', 'terraform.tfvars.example'));
    assert.ok(['alb-oidc', 'none'].includes(example.app_auth), `the example's app_auth ${example.app_auth}`);
    if (example.app_auth === 'alb-oidc') {
      assert.ok(example.oidc, 'the example sets app_auth = alb-oidc without an oidc block');
      for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'user_info_endpoint', 'client_id', 'client_secret']) {
        assert.match(String(env.variables.oidc.type), new RegExp(`\\b${k}\\s*=`), `variable oidc has no ${k}`);
        assert.ok(example.oidc[k], `the example's oidc has no ${k}`);
      }
      assert.match(example.oidc.client_id, /REPLACE/, 'placeholders the oidc validation catches when left in');
    }
    // Every required variable of the environment is in the example.
    for (const [name, v] of Object.entries(env.variables)) {
      if (!Object.hasOwn(v, 'default')) assert.ok(Object.hasOwn(example, name), `terraform.tfvars.example lacks ${name}`);
    }
  });

  test('env: the provider lock holds the registry\'s zh: hashes, so init works on every platform', () => {
    const lock = fs.readFileSync(path.join(ENVS_DIR, 'prod', '.terraform.lock.hcl'), 'utf8');
    const version = lock.match(/provider "registry\.terraform\.io\/hashicorp\/aws" \{\s*version\s*=\s*"([^"]+)"/)?.[1];
    assert.ok(version, 'no aws provider in the lock file');
    const zh = [...lock.matchAll(/"zh:([0-9a-f]{64})"/g)];
    const h1 = [...lock.matchAll(/"h1:[A-Za-z0-9+/]{43}="/g)];
    // One per package the registry publishes (darwin, freebsd, linux, windows on several CPUs).
    assert.ok(zh.length >= 12, `only ${zh.length} zh: hashes: terraform init fails on platforms without one`);
    assert.ok(h1.length >= 1);
    assert.ok(atLeast(lowestVersion(version), [5, 0]));
  });

  test('dns: ACM certificate validated through Route53, alias record to the ALB', () => {
    const m = modules.dns;
    assert.equal(m.resources.aws_acm_certificate.this.validation_method, 'DNS');
    assert.ok(m.resources.aws_acm_certificate_validation.this);
    assert.ok(m.resources.aws_route53_record.alias.alias);
  });

  test('dynamodb and observability: on-demand table with PITR; bounded log retention', () => {
    const t = modules.dynamodb.resources.aws_dynamodb_table.this;
    assert.equal(t.billing_mode, 'PAY_PER_REQUEST');
    assert.equal(t.point_in_time_recovery[0].enabled, true);
    assert.ok(modules.observability.variables.retention_days.default > 0);
    assert.match(modules.observability.resources.aws_cloudwatch_log_group.waf.name, /^aws-waf-logs-/);
  });
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
    // AWS_ENDPOINT_URL_* are read by libshared's AWS settings, which only the agent's readers use;
    // "/healthz" style literals and error messages elsewhere must not count either.
    passed.app.add('AWS_ENDPOINT_URL_APP');
    passed.app.add('AGENT_STORE');
    passed.sse_hub.add('HUB_REDIS_ULR');
    assert.deepEqual(unreadSettings(code, passed, CONTAINERS).sort(),
      ['app: AGENT_STORE', 'app: AWS_ENDPOINT_URL_APP', 'sse_hub: HUB_REDIS_ULR']);
    // And what the readers do read is there, for the right executable only.
    assert.ok(code.agent.settings.has('AWS_ENDPOINT_URL_DYNAMODB') && !code.app.settings.has('AWS_ENDPOINT_URL_DYNAMODB'));
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
    const store = fs.readFileSync(path.join(ROOT, 'agent/src/store/dynamodb_session_store.cpp'), 'utf8');
    const keyOf = (type) => store.match(new RegExp(`\\{"AttributeName",\\s*"([^"]+)"\\},\\s*\\{"KeyType",\\s*"${type}"\\}`))?.[1];
    const ttl = store.match(/"TimeToLiveSpecification"[^;]*?"AttributeName",\s*"([^"]+)"/)?.[1];
    assert.ok(keyOf('HASH') && keyOf('RANGE') && ttl, 'cannot find the CreateTable key schema and TTL attribute in the agent\'s DynamoDB store');
    const env = Object.values(envs)[0];
    assert.equal(effectiveModuleVariable(env, 'dynamodb', modules.dynamodb, 'hash_key'), keyOf('HASH'));
    assert.equal(effectiveModuleVariable(env, 'dynamodb', modules.dynamodb, 'range_key'), keyOf('RANGE'));
    assert.equal(effectiveModuleVariable(env, 'dynamodb', modules.dynamodb, 'ttl_attribute'), ttl);
  });

  test('the task role allows exactly the DynamoDB operations the agent\'s store calls', () => {
    const store = fs.readFileSync(path.join(ROOT, 'agent/src/store/dynamodb_session_store.cpp'), 'utf8');
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

describe('images and pipelines', () => {
  test('the Dockerfile build stage installs every library package scripts/setup.sh installs', () => {
    const setup = fs.readFileSync(path.join(ROOT, 'scripts/setup.sh'), 'utf8');
    const list = setup.match(/APT_PACKAGES=\(([\s\S]*?)\n\)/);
    assert.ok(list, 'scripts/setup.sh has no APT_PACKAGES=( ... ) list');
    const packages = list[1].split('\n').map((l) => l.replace(/#.*/, '')).join(' ').split(/\s+/).filter(Boolean);
    // Test-only libraries are not needed to build the three executables.
    const testOnly = /^lib(gtest|gmock|benchmark)-dev$/;
    const libs = packages.filter((p) => /^lib.*-dev$/.test(p) && !testOnly.test(p));
    const build = parseDockerfile(path.join(ROOT, 'Dockerfile')).stages.build;
    assert.ok(build, 'Dockerfile has no build stage');
    const missing = libs.filter((p) => !build.aptPackages.includes(p));
    assert.deepEqual(missing, [], 'library packages setup.sh installs but the image build stage does not');
  });

  test('the Dockerfile installs the UI\'s npm packages before building (the app embeds the UI)', () => {
    const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    assert.ok(fs.existsSync(path.join(ROOT, 'app/web/package-lock.json')), 'app/web/package-lock.json is gone; update this check and the Dockerfile');
    const npmCi = text.search(/cd app\/web && npm ci/);
    const build = text.search(/ninja -C build app agent sse_hub/);
    assert.ok(npmCi >= 0, 'the Dockerfile never runs npm ci in app/web');
    assert.ok(build > npmCi, 'npm ci in app/web must come before the build');
  });

  test('each image installs exactly the library packages its own executable links, no more, no fewer', (t) => {
    const bin = process.env.SUITE_BIN_DIR;
    const exes = Object.fromEntries(EXECUTABLES.map((e) => [e, path.join(bin ?? '', e, e)]));
    if (!bin || !Object.values(exes).every((e) => fs.existsSync(e))) {
      t.skip('executables not built (run through ctest after the build)');
      return;
    }
    const dockerfile = parseDockerfile(path.join(ROOT, 'Dockerfile'));
    // In every Debian image already; the sanitizer runtimes appear only in the test build.
    const inBaseImage = new Set(['libc6', 'libstdc++6', 'libgcc-s1']);
    const sanitizer = /^lib(asan|ubsan|lsan|tsan)\d*$/;
    // What the images install for themselves, not for an executable: TLS roots and the health
    // checks' curl (whose own libraries apt pulls in as its dependencies).
    const tools = new Set(['ca-certificates', 'curl']);
    const problems = [];
    for (const [exe, file] of Object.entries(exes)) {
      const needed = execFileSync('readelf', ['-d', file], { encoding: 'utf8', timeout: 30_000 })
        .split('\n').map((l) => l.match(/\(NEEDED\)\s+Shared library: \[(.+)\]/)?.[1]).filter(Boolean);
      const ldd = execFileSync('ldd', [file], { encoding: 'utf8', timeout: 30_000 });
      const packages = new Set();
      for (const soname of needed) {
        const where = ldd.match(new RegExp(`^\\s*${soname.replace(/[.+]/g, '\\$&')} => (\\S+)`, 'm'))?.[1];
        assert.ok(where, `${file}: ${soname} not found by ldd`);
        const candidates = [where, fs.realpathSync(where), where.replace(/^\/usr\/lib\//, '/lib/'), where.replace(/^\/lib\//, '/usr/lib/')];
        let pkg = null;
        for (const c of candidates) {
          const r = spawnSync('dpkg-query', ['-S', c], { encoding: 'utf8', timeout: 30_000 });
          if (r.status === 0) { pkg = r.stdout.split(':')[0].trim(); break; }
        }
        assert.ok(pkg, `${soname} (${where}) belongs to no Debian package`);
        if (!inBaseImage.has(pkg) && !sanitizer.test(pkg)) packages.add(pkg);
      }
      const stage = dockerfile.stages[exe];
      assert.ok(stage, `Dockerfile has no stage ${exe}`);
      const installed = new Set(stage.aptPackages.filter((p) => !tools.has(p)));
      for (const p of packages) if (!installed.has(p)) problems.push(`${exe}: links ${p}, which its image does not install`);
      for (const p of installed) if (!packages.has(p)) problems.push(`${exe}: its image installs ${p}, which ${exe} does not link`);
    }
    assert.deepEqual(problems, []);
  });

  const workflow = (f) => fs.readFileSync(path.join(ROOT, '.github/workflows', f), 'utf8');
  const parsedWorkflow = (f) => YAML.parse(workflow(f));

  test('CI runs the same test command as .ci/run; every workflow runs bash with pipefail', () => {
    const ciRun = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    const command = 'bash scripts/test.sh';
    assert.ok(ciRun.includes(command), `.ci/run no longer runs "${command}"; update the CI workflow with it`);
    assert.match(workflow('ci.yml'), /run:\s*bash scripts\/test\.sh/);
    for (const f of fs.readdirSync(path.join(ROOT, '.github/workflows')).filter((n) => /\.ya?ml$/.test(n))) {
      // GitHub runs `shell: bash` as bash -eo pipefail; the default shell has no pipefail.
      assert.equal(parsedWorkflow(f).defaults?.run?.shell, 'bash', `${f}: defaults.run.shell must be bash (pipefail)`);
    }
    const plan = parsedWorkflow('terraform.yml').jobs.plan.steps.find((st) => /terraform[^\n]*plan/.test(st.run ?? ''));
    assert.match(plan.run, /set -o pipefail/, 'terraform plan | tee must fail when the plan fails');
  });

  test('CI builds the images with the action that passes the gha cache its token', () => {
    const images = parsedWorkflow('ci.yml').jobs.images.steps;
    assert.doesNotMatch(JSON.stringify(images.filter((st) => st.run)), /type=gha/, 'type=gha in a run step has no runtime token');
    const builds = images.filter((st) => /^docker\/build-push-action@/.test(st.uses ?? ''));
    assert.deepEqual(builds.map((st) => st.with.target).sort(), [...EXECUTABLES].sort());
  });

  test('Terraform: fmt, validate and the provider lock on changes, plan on same-repository pull requests with the read-only role, no apply', () => {
    const tf = workflow('terraform.yml');
    for (const step of ['fmt -check', 'validate', 'plan', 'providers lock']) {
      assert.match(tf, new RegExp(`terraform [^\\n]*\\b${step}\\b`), `terraform.yml runs no "terraform ${step}"`);
    }
    const jobs = parsedWorkflow('terraform.yml').jobs;
    assert.match(jobs.plan.if, /head\.repo\.full_name == github\.repository/);
    assert.match(JSON.stringify(jobs.plan.steps), /AWS_PLAN_ROLE_ARN/);
    assert.doesNotMatch(tf, /terraform[^\n]* apply/, 'apply belongs to the release, right before its deploy');
  });

  test('Release: only pushes to main of this repository, apply first, the deploy of the same commit after it, both with OIDC', () => {
    const wf = parsedWorkflow('deploy.yml');
    const { apply, deploy } = wf.jobs;
    assert.deepEqual(wf.on.workflow_run.workflows, ['CI']);
    for (const must of ["workflow_run.conclusion == 'success'", "workflow_run.event == 'push'",
      'workflow_run.head_repository.full_name == github.repository', "workflow_run.head_branch == 'main'",
      "github.ref == 'refs/heads/main'"]) {
      assert.ok(apply.if.includes(must), `the release runs without checking ${must}`);
    }
    assert.equal(deploy.needs, 'apply', 'the deploy must wait for the apply of the same commit');
    assert.equal(deploy.if, undefined, 'deploy runs exactly when its apply succeeded');
    for (const job of [apply, deploy]) {
      assert.equal(job.permissions['id-token'], 'write');
      assert.equal(job.environment, 'production');
      const checkout = job.steps.find((st) => /^actions\/checkout@/.test(st.uses ?? ''));
      assert.match(checkout.with.ref, /workflow_run\.head_sha/, 'both jobs build the commit CI tested');
    }
    assert.match(JSON.stringify(apply.steps), /terraform[^"]* apply/);
    assert.match(JSON.stringify(apply.steps), /AWS_APPLY_ROLE_ARN/);
    const deployRun = JSON.stringify(deploy.steps);
    assert.match(deployRun, /AWS_DEPLOY_ROLE_ARN/);
    assert.match(deployRun, /infra\/deploy\.sh --parameter/);
    assert.doesNotMatch(deployRun, /terraform/, 'the deploy role cannot read the state; names come from the SSM parameter');
  });

  test('the infra scripts are valid bash (and pass shellcheck when it is installed)', () => {
    for (const s of ['bootstrap.sh', 'deploy.sh', 'modules/secrets/seed_keys.sh']) {
      const file = path.join(INFRA, s);
      assert.ok(fs.statSync(file).mode & 0o111, `${s} is not executable`);
      const r = spawnSync('bash', ['-n', file], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `${s}: ${r.stderr}`);
      const sc = spawnSync('shellcheck', [file], { encoding: 'utf8', timeout: 60_000 });
      if (!sc.error) assert.equal(sc.status, 0, `shellcheck ${s}:\n${sc.stdout}`);
    }
  });

  test('the README has a Deployment section covering compose, bootstrap and deploy', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Deployment');
    assert.ok(start >= 0, 'README.md has no "## Deployment" section');
    const rest = readme.slice(start + 1);
    const next = rest.indexOf('\n## ');
    const section = next >= 0 ? rest.slice(0, next) : rest;
    for (const must of ['docker compose up', 'infra/bootstrap.sh', 'infra/deploy.sh', 'terraform apply', '.env.example']) {
      assert.ok(section.includes(must), `the Deployment section does not mention ${must}`);
    }
  });
});
