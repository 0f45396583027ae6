// What the C++ code itself says about each executable, read from its sources so that a rename in
// the code breaks the deployment checks: the settings it reads, its listen setting and default,
// and the HTTP paths it serves.
//
// Settings come only from the config readers, the functions that take a shared::ConfigSource
// (DESIGN: configuration is parsed in one place; nothing else reads the environment). Starting at
// the executable's root reader (read_app_config, read_agent_config, read_hub_config), this follows
// the readers it calls with `source` (read_log_config, read_server_config(source, "APP", ...),
// read_aws_settings, helpers such as read_keys(source, "PUBLISHER") or optional_url(source, name))
// and collects the first argument of every source.<accessor>(...) call, evaluated from string
// literals, the caller's arguments and local `std::string x = "A_" + y + "_B";` definitions. A
// setting counts as read only if some reader of that executable reads it: a name that appears as a
// string literal anywhere else (an error message, a comment, another executable) does not count.
// A read whose name this cannot work out is an error, not a guess, so the check never gets
// weaker silently.
import fs from 'node:fs';
import path from 'node:path';

export const EXECUTABLES = ['app', 'agent', 'sse_hub'];
export const ROOT_READERS = { app: 'read_app_config', agent: 'read_agent_config', sse_hub: 'read_hub_config' };

// ConfigSource's accessors (libshared/include/shared/config.h); the first argument is the name.
const ACCESSORS = new Set(['get', 'string', 'required_string', 'integer', 'boolean', 'duration', 'size', 'one_of',
  'listen', 'list', 'url']);

function sourceFiles(dir) {
  const out = [];
  if (!fs.existsSync(dir)) return out;
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules' || entry.name === 'web') continue;
        walk(full);
      } else if (/\.(cpp|cc|h|hpp)$/.test(entry.name) && !/_test\.cpp$/.test(entry.name)) {
        out.push(full);
      }
    }
  };
  walk(dir);
  return out.sort();
}

// If a string or character literal starts at i, the index of its closing quote, else -1. A quote
// after a digit is a digit separator (1'000'000), not a character literal.
function literalEnd(text, i) {
  const c = text[i];
  if (c !== '"' && !(c === '\'' && !/[0-9A-Fa-f]/.test(text[i - 1] ?? ''))) return -1;
  let j = i + 1;
  while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
  return j;
}

// Drops // and /* */ comments (not inside string literals) so that names in comments never count.
export function stripComments(text) {
  let out = '';
  for (let i = 0; i < text.length;) {
    const end = literalEnd(text, i);
    if (end >= 0) {
      out += text.slice(i, end + 1);
      i = end + 1;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

// Index just past the bracket that closes the one at `open` ('(' or '{'), skipping literals.
function closing(text, open) {
  const pairs = { '(': ')', '{': '}', '[': ']' };
  const stack = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    const end = literalEnd(text, i);
    if (end >= 0) {
      i = end;
    } else if (pairs[c]) {
      stack.push(pairs[c]);
    } else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (!stack.length) return i + 1;
    }
  }
  throw new Error('unbalanced brackets');
}

// Splits on `sep` at bracket depth 0, outside literals.
function splitTop(text, sep) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const end = literalEnd(text, i);
    if (end >= 0) {
      i = end;
    } else if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (depth === 0 && text.startsWith(sep, i) && !(sep === '+' && text[i + 1] === '+')) {
      parts.push(text.slice(start, i));
      start = i + sep.length;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

// Every function definition of a file whose parameters include a ConfigSource: the readers.
export function readerFunctions(file, text) {
  const functions = [];
  const head = /\b([A-Za-z_]\w*)\s*\(/g;
  for (let m; (m = head.exec(text));) {
    const open = m.index + m[0].length - 1;
    let close;
    try {
      close = closing(text, open);
    } catch {
      continue;
    }
    const params = text.slice(open + 1, close - 1);
    if (!/\bConfigSource\s*&/.test(params)) continue;
    const after = text.slice(close).match(/^\s*(?:const\s*)?\{/);
    if (!after) continue; // a declaration or a call, not a definition
    const bodyOpen = close + after[0].length - 1;
    const bodyClose = closing(text, bodyOpen);
    const names = splitTop(params, ',').map((p) => p.replace(/=.*$/s, '').trim().match(/([A-Za-z_]\w*)\s*$/)?.[1]);
    functions.push({
      name: m[1], file, params: names, sourceParam: names[splitTop(params, ',').findIndex((p) => /ConfigSource/.test(p))],
      body: text.slice(bodyOpen + 1, bodyClose - 1),
    });
    head.lastIndex = bodyClose;
  }
  return functions;
}

function unquote(literal) {
  return JSON.parse(literal);
}

// Values a C++ string expression can take: a set of strings, or null when it is not made of
// literals and known names only.
function evaluate(expr, env) {
  let results = [''];
  for (const part of splitTop(expr.trim(), '+')) {
    let values;
    const literal = part.match(/^(?:std::string\s*\()?\s*("(?:[^"\\]|\\.)*")\s*\)?$/);
    if (literal) values = [unquote(literal[1])];
    else if (/^[A-Za-z_]\w*$/.test(part) && env.has(part) && env.get(part)) values = [...env.get(part)];
    else return null;
    results = results.flatMap((r) => values.map((v) => r + v));
  }
  return new Set(results);
}

export class ContractError extends Error {}

// Follows the readers from one root; returns {settings: Set, listen: {setting, default} | null}.
function collect(readers, root, nameBuilders) {
  const settings = new Set();
  const files = new Set();
  let listen = null;
  const seen = new Set();
  const visit = (fn, bindings) => {
    const key = `${fn.file}:${fn.name}:${JSON.stringify([...bindings].map(([k, v]) => [k, v && [...v]]))}`;
    if (seen.has(key)) return;
    seen.add(key);
    files.add(fn.file);
    const env = new Map(bindings);
    const where = `${path.basename(fn.file)} ${fn.name}()`;
    // Local string names, in order of definition.
    for (const m of fn.body.matchAll(/(?:const\s+)?std::string\s+([A-Za-z_]\w*)\s*=\s*([^;]+);/g)) {
      const call = m[2].trim().match(/^([A-Za-z_]\w*)\s*\(([^()]*)\)$/);
      if (call && nameBuilders[call[1]]) env.set(m[1], nameBuilders[call[1]](call[2].trim(), fn));
      else env.set(m[1], evaluate(m[2], env));
    }
    // `const ConfigSource source = resolve_secret_settings(raw, {"NAME", ...});` reads
    // NAME_SECRET_ARN for each name (and, when one is set, the AWS settings, to reach Secrets
    // Manager); the result is the same source with those values filled in, read like the raw one.
    const sources = new Set([fn.sourceParam]);
    const secretStep = /ConfigSource\s+([A-Za-z_]\w*)\s*=\s*(?:shared::)?(?:aws::)?resolve_secret_settings\s*\(\s*([A-Za-z_]\w*)\s*,\s*\{([^}]*)\}/g;
    for (const m of fn.body.matchAll(secretStep)) {
      if (!sources.has(m[2])) continue;
      sources.add(m[1]);
      for (const literal of m[3].matchAll(/"(?:[^"\\]|\\.)*"/g)) settings.add(`${unquote(literal[0])}_SECRET_ARN`);
      for (const aws of readers.filter((r) => r.name === 'read_aws_settings')) visit(aws, new Map());
    }
    const calls = new RegExp(`(\\.\\s*)?\\b([A-Za-z_]\\w*)\\s*\\(`, 'g');
    for (let m; (m = calls.exec(fn.body));) {
      const open = m.index + m[0].length - 1;
      const args = splitTop(fn.body.slice(open + 1, closing(fn.body, open) - 1), ',');
      const before = fn.body.slice(0, m.index).match(/([A-Za-z_]\w*)\s*$/)?.[1];
      const src = args.find((a) => sources.has(a.trim()))?.trim() ?? fn.sourceParam;
      if (m[1] && sources.has(before)) {
        // source.<accessor>(NAME, ...)
        if (!ACCESSORS.has(m[2])) throw new ContractError(`${where}: unknown ConfigSource accessor ${m[2]}`);
        const names = evaluate(args[0], env);
        if (!names) throw new ContractError(`${where}: cannot tell which setting source.${m[2]}(${args[0]}, ...) reads; extend tests/infra/code_contract.mjs`);
        for (const n of names) settings.add(n);
        if (m[2] === 'listen') {
          const def = args[1] !== undefined ? evaluate(args[1], env) : null;
          if (names.size !== 1 || !def || def.size !== 1) throw new ContractError(`${where}: source.listen needs one name and one default`);
          listen = { setting: [...names][0], default: [...def][0] };
        }
      } else if (!m[1] && m[2] !== 'resolve_secret_settings' && args.some((a) => sources.has(a.trim()))) {
        // another reader, given the source: follow it with its arguments bound
        const callee = readers.filter((r) => r.name === m[2]);
        if (!callee.length) throw new ContractError(`${where}: calls ${m[2]}(${src}, ...), which is no config reader under the executable's or libshared's sources`);
        for (const target of callee) {
          const bound = new Map();
          target.params.forEach((p, i) => {
            if (p !== target.sourceParam && args[i] !== undefined) bound.set(p, evaluate(args[i], env));
          });
          visit(target, bound);
        }
      }
    }
  };
  const roots = readers.filter((r) => r.name === root);
  if (!roots.length) throw new ContractError(`no config reader ${root}(const ConfigSource&) found`);
  for (const r of roots) visit(r, new Map());
  return { settings, listen, files };
}

// Names that a reader builds with a helper instead of a literal, as the SDKs do for endpoints:
// `const std::string var = endpoint_variable(service.id);` inside `for (... service : kServices)`
// is AWS_ENDPOINT_URL_<ID> (upper case, '-' as '_', the prefix read from endpoint_variable's own
// body) for every id in the file's kServices table.
function nameBuildersFor(readerFiles) {
  return {
    endpoint_variable(arg, fn) {
      const text = readerFiles.get(fn.file);
      const prefix = text.match(/endpoint_variable\s*\([^)]*\)\s*\{\s*std::string\s+\w+\s*=\s*"([A-Z_]+)"/)?.[1];
      const loop = fn.body.match(new RegExp(`for\\s*\\(\\s*const\\s+auto&\\s+(\\w+)\\s*:\\s*(\\w+)\\s*\\)`));
      if (!prefix || !loop || arg !== `${loop[1]}.id`) return null;
      const table = text.match(new RegExp(`\\b${loop[2]}\\s*\\[\\s*\\]\\s*=\\s*\\{([\\s\\S]*?)\\};`))?.[1];
      if (!table) return null;
      const ids = [...table.matchAll(/\{\s*"([a-z0-9-]+)"/g)].map((x) => x[1]);
      return new Set(ids.map((id) => prefix + id.toUpperCase().replace(/-/g, '_')));
    },
  };
}

// executables: which to read (a self-test reads a made-up source tree with fewer).
export function readCodeContract(sourceDir, executables = EXECUTABLES) {
  const sharedFiles = sourceFiles(path.join(sourceDir, 'libshared'));
  const contract = {};
  for (const exe of executables) {
    const ownFiles = sourceFiles(path.join(sourceDir, exe));
    const texts = new Map([...ownFiles, ...sharedFiles].map((f) => [f, stripComments(fs.readFileSync(f, 'utf8'))]));
    const readers = [...texts].flatMap(([f, t]) => readerFunctions(f, t));
    const { settings, listen: raw, files } = collect(readers, ROOT_READERS[exe], nameBuildersFor(texts));
    const listen = raw && { ...raw, port: Number(raw.default.slice(raw.default.lastIndexOf(':') + 1)) };

    // Paths the executable routes: string literals that look like absolute URL paths
    // (server_.Get("/healthz", ...) in libshared, path == "/healthz" in the hub's own router).
    const paths = new Set();
    for (const text of texts.values()) for (const m of text.matchAll(/"(\/[A-Za-z0-9._\-/]*)"/g)) paths.add(m[1]);

    contract[exe] = { settings, listen, paths, readerFiles: [...files].map((f) => path.relative(sourceDir, f)) };
  }
  return contract;
}

// The settings a deployment passes to containers that the container's code never reads:
// [`container: NAME`]. passed: {container: iterable of names}; containerToExe: {container: exe}.
export function unreadSettings(contract, passed, containerToExe) {
  const unknown = [];
  for (const [container, names] of Object.entries(passed)) {
    for (const n of names) if (!contract[containerToExe[container]].settings.has(n)) unknown.push(`${container}: ${n}`);
  }
  return unknown;
}
