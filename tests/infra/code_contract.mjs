// What the C++ code itself says about each executable, read from its sources so that a rename in
// the code breaks the deployment checks: the setting names it reads, its default listen address,
// and the HTTP paths it serves.
//
// A setting counts as read by an executable when its name appears as a whole string literal
// ("AGENT_STORE") in that executable's sources or in libshared's, or is built from a server
// prefix: read_server_config(source, "AGENT", "127.0.0.1:8000") reads AGENT_LISTEN and every
// PREFIX + "_SUFFIX" that libshared's server config reads; a name put together as
// "MERCURE_" + role + "_JWT_KEY" counts for every all-capitals word literal ("PUBLISHER") of the
// same sources, and a "PREFIX_" literal completed at run time with an upper-cased service id.
import fs from 'node:fs';
import path from 'node:path';

export const EXECUTABLES = ['app', 'agent', 'sse_hub'];

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
  return out;
}

function readAll(files) {
  return files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
}

// Drops // and /* */ comments so a setting named only in a comment does not count as read.
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:"])\/\/.*$/gm, '$1');
}

export function readCodeContract(sourceDir) {
  const shared = stripComments(readAll(sourceFiles(path.join(sourceDir, 'libshared'))));
  const prefixSuffixes = new Set();
  for (const m of shared.matchAll(/prefix\s*\+\s*"(_[A-Z0-9_]+)"/g)) prefixSuffixes.add(m[1]);

  const contract = {};
  for (const exe of EXECUTABLES) {
    const own = stripComments(readAll(sourceFiles(path.join(sourceDir, exe))));
    const text = own + '\n' + shared;
    const settings = new Set();
    for (const m of text.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g)) settings.add(m[1]);

    const words = new Set([...text.matchAll(/"([A-Z][A-Z0-9]*)"/g)].map((m) => m[1]));
    for (const m of text.matchAll(/"([A-Z][A-Z0-9_]*_)"\s*\+\s*\w+\s*\+\s*"(_[A-Z0-9_]+)"/g)) {
      for (const w of words) settings.add(m[1] + w + m[2]);
    }

    // std::string name = "AWS_ENDPOINT_URL_"; name += upper(service id): each lower-case id
    // literal ("bedrock-runtime") in the same sources completes such a prefix.
    const prefixes = [...text.matchAll(/"([A-Z][A-Z0-9_]*_)"/g)].map((m) => m[1]);
    const ids = new Set([...text.matchAll(/"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)"/g)].map((m) => m[1]));
    for (const p of prefixes) for (const id of ids) settings.add(p + id.toUpperCase().replace(/-/g, '_'));

    let listen = null;
    const direct = own.match(/\.listen\(\s*"([A-Z][A-Z0-9_]*_LISTEN)"\s*,\s*"([^"]+)"\s*\)/);
    if (direct) {
      const port = Number(direct[2].slice(direct[2].lastIndexOf(':') + 1));
      listen = { setting: direct[1], default: direct[2], port };
    }
    const server = own.match(/read_server_config\(\s*\w+\s*,\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*\)/);
    if (server) {
      const [, prefix, defaultListen] = server;
      for (const suffix of prefixSuffixes) settings.add(prefix + suffix);
      settings.add(`${prefix}_LISTEN`);
      const port = Number(defaultListen.slice(defaultListen.lastIndexOf(':') + 1));
      listen = { setting: `${prefix}_LISTEN`, default: defaultListen, port };
    }

    // Paths the executable routes: string literals that look like absolute URL paths
    // (server_.Get("/healthz", ...) in libshared, path == "/healthz" in the hub's own router).
    const paths = new Set();
    for (const m of text.matchAll(/"(\/[A-Za-z0-9._\-\/]*)"/g)) paths.add(m[1]);

    contract[exe] = { settings, listen, paths };
  }
  return contract;
}
