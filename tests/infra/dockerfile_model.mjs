// The Dockerfile as stages: for each `FROM ... AS name`, its USER, EXPOSEd ports, ENTRYPOINT and
// the packages its RUN lines apt-get install; and whether any HEALTHCHECK is declared.
import fs from 'node:fs';

// Joins backslash-continued lines and drops comments.
function instructions(text) {
  const out = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!current && (line.trim().startsWith('#') || !line.trim())) continue;
    if (line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    out.push(current.trim());
    current = '';
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

export function parseDockerfile(file) {
  const result = { stages: {}, healthcheck: false };
  let stage = null;
  for (const ins of instructions(fs.readFileSync(file, 'utf8'))) {
    const [keyword, ...restParts] = ins.split(/\s+/);
    const rest = restParts.join(' ');
    switch (keyword.toUpperCase()) {
      case 'FROM': {
        const m = rest.match(/^(\S+)(?:\s+AS\s+(\S+))?/i);
        const name = m[2] ?? `stage${Object.keys(result.stages).length}`;
        const parent = result.stages[m[1]];
        stage = {
          name,
          from: m[1],
          user: parent?.user ?? null,
          expose: [],
          entrypoint: parent?.entrypoint ?? null,
          // A stage built on another inherits what that one installed.
          aptPackages: parent ? [...parent.aptPackages] : [],
        };
        result.stages[name] = stage;
        break;
      }
      case 'USER':
        stage.user = rest.trim();
        break;
      case 'EXPOSE':
        stage.expose.push(...rest.split(/\s+/).map((p) => Number(p.split('/')[0])));
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = rest.trim();
        break;
      case 'HEALTHCHECK':
        result.healthcheck = true;
        break;
      case 'RUN':
        for (const m of rest.matchAll(/apt-get install((?:\s+(?!&&)[^\s&;|]+)+)/g)) {
          stage.aptPackages.push(...m[1].trim().split(/\s+/).filter((p) => !p.startsWith('-')));
        }
        break;
      default:
        break;
    }
  }
  return result;
}
