// compose.yaml as a user gets it after `cp .env.example .env`: parsed, with ${VAR}, ${VAR:-x},
// ${VAR-x}, ${VAR:?msg} and ${VAR?msg} interpolated from .env.example the way Compose does it.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const YAML = require('yaml');

export function parseEnvFile(file) {
  const values = new Map();
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${file}: not NAME=value: ${raw}`);
    values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return values;
}

const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

// Every ${VAR...} a string uses, with its operator ("", ":-", "-", ":?", "?").
export function interpolationsIn(text) {
  return [...String(text).matchAll(INTERPOLATION)].map((m) => ({ name: m[1], op: m[2] ?? '', arg: m[3] ?? '' }));
}

export function interpolate(text, env) {
  return String(text)
    .replace(INTERPOLATION, (_, name, op = '', arg = '') => {
      const set = env.has(name);
      const value = set ? env.get(name) : undefined;
      const empty = !set || value === '';
      if (op === ':-') return empty ? arg : value;
      if (op === '-') return set ? value : arg;
      if (op === ':?') {
        if (empty) throw new Error(`compose would stop: ${name} ${arg}`);
        return value;
      }
      if (op === '?') {
        if (!set) throw new Error(`compose would stop: ${name} ${arg}`);
        return value;
      }
      return set ? value : '';
    })
    .replace(/\$\$/g, '$');
}

function interpolateTree(node, env) {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, env));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env)]));
  }
  return node;
}

// environment: as a map or a list of NAME=value -> plain object.
export function environmentOf(service) {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
}

// depends_on: as a list or a map -> {service: condition}.
export function dependsOnOf(service) {
  const d = service.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((s) => [s, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v?.condition ?? 'service_started']));
}

// The probe URL of a healthcheck test that curls one (CMD or CMD-SHELL form).
export function healthUrl(test) {
  const text = Array.isArray(test) ? test.join(' ') : String(test);
  const m = text.match(/https?:\/\/[^\s"']+/);
  return m ? new URL(m[0]) : null;
}

// fillRequired: a stand-in for values .env.example leaves empty that compose requires (${X:?}),
// i.e. the keys a user generates.
export function loadCompose(composeFile, envExampleFile, { fillRequired } = {}) {
  const text = fs.readFileSync(composeFile, 'utf8');
  const raw = YAML.parse(text);
  const env = parseEnvFile(envExampleFile);
  const filled = new Map(env);
  if (fillRequired !== undefined) {
    for (const { name, op } of interpolationsIn(text)) {
      if ((op === ':?' || op === '?') && env.has(name) && env.get(name) === '') filled.set(name, fillRequired);
    }
  }
  return { raw, env, resolved: interpolateTree(raw, filled) };
}
