// The images and the pipelines, offline: the Dockerfile builds what setup.sh builds with, and
// each image carries exactly its executable's libraries; CI runs the project's test command and
// builds the images with a working cache; Terraform plans pull requests read-only and with
// pipefail; the release applies and then deploys the same commit, only for pushes to main of
// this repository; the infra scripts are valid bash; the README explains the deployment.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

import { EXECUTABLES } from './code_contract.mjs';
import { parseDockerfile } from './dockerfile_model.mjs';
import { INFRA, ROOT } from './infra_deployment.mjs';

const YAML = createRequire(import.meta.url)('yaml');

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
