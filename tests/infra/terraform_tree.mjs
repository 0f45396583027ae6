// Reads infra/ the way Terraform would see it, without Terraform: every .tf file parsed to JSON
// (HCL parser from @cdktf/hcl2json), grouped by folder into variables, outputs, locals, module
// calls, resources and data sources, plus resolution of a module argument to its effective value
// (the environment's literal argument, else the module variable's default).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { parse } = require('@cdktf/hcl2json');

export function listTfFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '.terraform') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.tf')) out.push(full);
    }
  };
  walk(root);
  return out.sort();
}

// Parses one file; throws with the file name and the parser's message when it is not valid HCL.
export async function parseTfFile(file) {
  return parse(file, fs.readFileSync(file, 'utf8'));
}

// One block list from hcl2json ({name: [block]}) to {name: block}.
function firstBlocks(map = {}) {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
}

export async function loadTerraformDir(dir) {
  const model = {
    dir,
    files: {},
    text: '',
    variables: {},
    outputs: {},
    locals: {},
    modules: {},
    resources: {},
    data: {},
    terraform: [],
  };
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.tf')).sort()) {
    const file = path.join(dir, name);
    const json = await parseTfFile(file);
    model.files[name] = json;
    model.text += fs.readFileSync(file, 'utf8') + '\n';
    Object.assign(model.variables, firstBlocks(json.variable));
    Object.assign(model.outputs, firstBlocks(json.output));
    Object.assign(model.modules, firstBlocks(json.module));
    for (const block of json.locals ?? []) Object.assign(model.locals, block);
    for (const [type, byName] of Object.entries(json.resource ?? {})) {
      model.resources[type] = { ...(model.resources[type] ?? {}), ...firstBlocks(byName) };
    }
    for (const [type, byName] of Object.entries(json.data ?? {})) {
      model.data[type] = { ...(model.data[type] ?? {}), ...firstBlocks(byName) };
    }
    for (const block of json.terraform ?? []) model.terraform.push(block);
  }
  return model;
}

// "${var.x}" -> "x"; anything else -> null.
export function varReference(value) {
  const m = typeof value === 'string' && value.match(/^\$\{var\.([A-Za-z0-9_]+)\}$/);
  return m ? m[1] : null;
}

export function isLiteral(value) {
  if (typeof value === 'string') return !value.includes('${');
  if (Array.isArray(value)) return value.every(isLiteral);
  if (value && typeof value === 'object') return Object.values(value).every(isLiteral);
  return true;
}

// The value a module variable takes in an environment: the environment's argument when it is a
// literal (or a var.* of the environment with a default), else the module's default.
export function effectiveModuleVariable(env, moduleName, moduleDir, variable) {
  const call = env.modules[moduleName];
  if (!call) throw new Error(`environment has no module "${moduleName}"`);
  if (Object.hasOwn(call, variable)) {
    const arg = call[variable];
    if (isLiteral(arg)) return arg;
    const envVar = varReference(arg);
    if (envVar && env.variables[envVar] && Object.hasOwn(env.variables[envVar], 'default')) {
      return env.variables[envVar].default;
    }
    throw new Error(`module.${moduleName}.${variable} is set to ${JSON.stringify(arg)}, which this check cannot evaluate`);
  }
  const def = moduleDir.variables[variable];
  if (!def) throw new Error(`module ${moduleName} declares no variable "${variable}"`);
  if (!Object.hasOwn(def, 'default')) throw new Error(`module ${moduleName} variable "${variable}" has no default and is not set`);
  return def.default;
}

// Lowest version a constraint such as ">= 1.5", "~> 5.0" or ">= 5.0, < 7" admits, as [major, minor].
export function lowestVersion(constraint) {
  const parts = String(constraint).split(',').map((s) => s.trim());
  let lowest = null;
  for (const p of parts) {
    const m = p.match(/^(>=|~>|=|>)?\s*(\d+)(?:\.(\d+))?/);
    if (!m) continue;
    const v = [Number(m[2]), Number(m[3] ?? 0)];
    if (!lowest || v[0] > lowest[0] || (v[0] === lowest[0] && v[1] > lowest[1])) lowest = v;
  }
  return lowest;
}

export function atLeast(version, wanted) {
  return version && (version[0] > wanted[0] || (version[0] === wanted[0] && version[1] >= wanted[1]));
}
