// Builds the `berth` command into dist-cli/ with esbuild, so no TypeScript compiler runs when it
// starts: cli/main.ts becomes dist-cli/main.js, and each command's lazy import in
// cli/commands/index.ts becomes a chunk of its own under dist-cli/chunks/, loaded only when that
// command runs. Node built-ins and npm packages stay imports from node_modules.
// dist-cli/build.json lists every source file the build read, with its mtime and size:
// bin/berth.js runs the build only while those are unchanged (scripts/cli-stale.js).
// Run: npm run build:cli (npm install, npm ci and npm run build run it too). With --if-esbuild it
// does nothing when esbuild is not installed (an install without devDependencies).
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_DIST, MANIFEST } from './cli-stale.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds the CLI into `dist` (default dist-cli/). Each file is written under a temporary name and
 * renamed into place, and files of an earlier build are removed afterwards, so a `berth` running
 * meanwhile sees either build, never half a file.
 * @param {{ dist?: string, quiet?: boolean }} [options]
 * @returns {Promise<import('esbuild').Metafile>} what esbuild read and wrote
 */
export async function buildCli({ dist = CLI_DIST, quiet = false } = {}) {
  const { build } = await import('esbuild');
  const t0 = performance.now();
  /** @type {Map<string, [number, number]>} source path (from the root) -> [mtimeMs, size] as read */
  const read = new Map();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'cli/main.ts' },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    write: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [
      {
        // Records each source's mtime and size before reading it: a change after that point makes
        // the recorded state differ from the file's, so the build counts as stale.
        name: 'record-inputs',
        setup(b) {
          b.onLoad({ filter: /./, namespace: 'file' }, async (args) => {
            const s = await stat(args.path);
            read.set(relative(ROOT, args.path), [s.mtimeMs, s.size]);
            return undefined; // esbuild reads it as usual
          });
        },
      },
    ],
  });
  // The build's own settings are inputs too.
  for (const path of ['scripts/build-cli.js', 'tsconfig.json']) {
    const s = await stat(join(ROOT, path));
    if (!read.has(path)) read.set(path, [s.mtimeMs, s.size]);
  }
  const inputs = [...read].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, [mtimeMs, size]]) => [path, mtimeMs, size]);
  const files = [
    ...result.outputFiles.map((f) => ({ path: f.path, contents: f.contents })),
    { path: join(dist, MANIFEST), contents: `{"inputs": [\n${inputs.map((i) => JSON.stringify(i)).join(',\n')}\n]}\n` },
  ];
  const keep = new Set(files.map((f) => f.path));
  // Chunks first, main.js after them, the manifest last.
  const order = (p) => (p.endsWith(MANIFEST) ? 2 : p === join(dist, 'main.js') ? 1 : 0);
  for (const f of files.sort((a, b) => order(a.path) - order(b.path))) {
    mkdirSync(dirname(f.path), { recursive: true });
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && !keep.has(path) && !path.endsWith('.tmp')) rmSync(path, { force: true });
  }
  if (!quiet) {
    const bytes = result.outputFiles.filter((f) => f.path.endsWith('.js')).reduce((n, f) => n + f.contents.length, 0);
    const chunks = result.outputFiles.filter((f) => f.path.endsWith('.js')).length;
    console.log(
      `build:cli: ${relative(ROOT, dist)}/ (${chunks} files, ${(bytes / 1024).toFixed(0)} KiB, from ${inputs.length} sources) in ${(performance.now() - t0).toFixed(0)} ms`,
    );
  }
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const esbuild = await import('esbuild').catch(() => null);
  if (!esbuild && process.argv.includes('--if-esbuild'))
    console.log('build:cli: esbuild is not installed; bin/berth.js will run the TypeScript sources with tsx');
  else
    await buildCli().catch((e) => {
      if (!e?.errors) console.error(e); // esbuild has printed its own errors
      console.error('build:cli: failed');
      process.exitCode = 1;
    });
}
