// The deployment as the offline checks read it (no Docker engine, no AWS, no terraform binary):
// every Terraform folder of infra/ parsed, what the C++ code says about each executable
// (code_contract.mjs), compose.yaml as a user runs it after `cp .env.example .env`, and the ECS
// task definition's containers. Shared by the infra_* tests.
import fs from 'node:fs';
import path from 'node:path';

import { loadTerraformDir } from './terraform_tree.mjs';
import { readCodeContract } from './code_contract.mjs';
import { loadCompose } from './compose_model.mjs';
import { ecsContainers } from './ecs_task.mjs';

export const ROOT = process.env.SUITE_SOURCE_DIR ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const INFRA = path.join(ROOT, 'infra');
export const MODULES_DIR = path.join(INFRA, 'modules');
export const ENVS_DIR = path.join(INFRA, 'envs');

// Container (compose service and ECS container) -> executable whose code it runs.
export const CONTAINERS = Object.freeze({ app: 'app', agent: 'agent', sse_hub: 'sse_hub' });

async function loadFolders(dir) {
  const out = {};
  for (const name of fs.readdirSync(dir).sort()) {
    if (fs.statSync(path.join(dir, name)).isDirectory()) out[name] = await loadTerraformDir(path.join(dir, name));
  }
  return out;
}

// {modules, envs: name -> loadTerraformDir model, code: executable -> contract, compose:
// {raw, env, resolved}, ecs: the task definition's containers, resolved}.
export async function loadDeployment() {
  const modules = await loadFolders(MODULES_DIR);
  const envs = await loadFolders(ENVS_DIR);
  return {
    modules,
    envs,
    code: readCodeContract(ROOT),
    // .env.example leaves the keys empty for the user to fill in; a filled-in copy is what runs.
    compose: loadCompose(path.join(ROOT, 'compose.yaml'), path.join(ROOT, '.env.example'), {
      fillRequired: 'filled-in-by-the-user',
    }),
    ecs: ecsContainers(modules.ecs),
  };
}
