// Builds the UI into --outdir: index.html and favicon from public/, and one JS and one CSS bundle
// under assets/ (esbuild, minified). CMake runs this and embeds the result into the app binary.
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf('--outdir');
const outdir = resolve(flag > 0 ? process.argv[flag + 1] : join(here, 'dist'));

mkdirSync(join(outdir, 'assets'), { recursive: true });
cpSync(join(here, 'public'), outdir, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src', 'main.js'), styles: join(here, 'src', 'styles.css') },
  outdir: join(outdir, 'assets'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'eof',
  logLevel: 'warning',
});
