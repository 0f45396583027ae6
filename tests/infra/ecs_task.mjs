// The ECS task definition's containers as infra/modules/ecs declares them (local.containers),
// with each container's environment and secrets maps resolved from the locals they are built
// from, and its health-check URL.
import assert from 'node:assert/strict';
import { healthUrl } from './compose_model.mjs';

// Resolves a local of the ecs module that is a map, following merge(local.a, ...) expressions.
export function localMap(dir, name, seen = new Set()) {
  if (seen.has(name)) throw new Error(`local.${name} refers to itself`);
  seen.add(name);
  const value = dir.locals[name];
  if (value === undefined) throw new Error(`no local.${name} in ${dir.dir}`);
  if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  const refs = [...String(value).matchAll(/local\.([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  if (refs.length === 0) throw new Error(`local.${name} is neither a map nor a merge of maps: ${value}`);
  return Object.assign({}, ...refs.map((r) => localMap(dir, r, seen)));
}

export function ecsContainers(dir) {
  const list = dir.locals.containers;
  assert.ok(Array.isArray(list), 'infra/modules/ecs: local.containers must be a literal list of container definitions');
  const listRef = (expr, what, name) => {
    const m = String(expr).match(/local\.([A-Za-z0-9_]+)/);
    assert.ok(m, `ecs container ${name}: ${what} must be built from a local map, got ${expr}`);
    return localMap(dir, m[1]);
  };
  return list.map((c) => ({
    name: c.name,
    essential: c.essential,
    portMappings: c.portMappings ?? [],
    environment: listRef(c.environment, 'environment', c.name),
    secrets: listRef(c.secrets, 'secrets', c.name),
    healthUrl: healthUrl(typeof c.healthCheck === 'string' ? c.healthCheck : JSON.stringify(c.healthCheck ?? '')),
    dependsOn: c.dependsOn ?? [],
    readonlyRootFilesystem: c.readonlyRootFilesystem === true,
    image: c.image,
  }));
}

