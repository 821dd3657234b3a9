// The CLI as esbuild builds it (scripts/build-cli.js): `berth --help` loads no command and no npm
// package, each command is a chunk of its own, the build runs, and its record of sources tells a
// stale build from a current one (scripts/cli-stale.js, what bin/berth.js asks).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/commands/index.ts';
import { buildCli } from '../../scripts/build-cli.js';
import { staleReason } from '../../scripts/cli-stale.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the tree, so the chunks' imports of npm packages resolve from node_modules.
mkdirSync(join(ROOT, '.test-results'), { recursive: true });
const dist = mkdtempSync(join(ROOT, '.test-results', 'cli-build-'));
let meta: Metafile;

beforeAll(async () => {
  meta = await buildCli({ dist, quiet: true });
}, 60_000);
afterAll(() => rmSync(dist, { recursive: true, force: true }));

const out = (file: string) => relative(ROOT, join(dist, file));
const node = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });

/** The outputs a file loads before it runs (static imports, transitively). */
function staticClosure(file: string): string[] {
  const seen = new Set<string>([file]);
  for (const f of seen)
    for (const i of meta.outputs[f].imports)
      if (i.kind === 'import-statement' && !i.external && !seen.has(i.path)) seen.add(i.path);
  return [...seen];
}

describe('the built CLI', () => {
  it('loads only node built-ins and no command for `berth --help`', () => {
    const closure = staticClosure(out('main.js'));
    const externals = closure.flatMap((f) => meta.outputs[f].imports.filter((i) => i.external).map((i) => i.path));
    expect(externals.every((p) => p.startsWith('node:'))).toBe(true);
    const sources = closure.flatMap((f) => Object.keys(meta.outputs[f].inputs));
    expect(sources).toContain('cli/commands/index.ts');
    expect(sources.filter((s) => s.startsWith('cli/commands/') && s !== 'cli/commands/index.ts')).toEqual([]);
  });

  it('makes each command a chunk of its own, loaded by a dynamic import', () => {
    const lazy = meta.outputs[out('main.js')].imports.filter((i) => i.kind === 'dynamic-import');
    expect(lazy).toHaveLength(COMMANDS.length);
    const owners = lazy.map((i) => meta.outputs[i.path].entryPoint);
    for (const c of COMMANDS) expect(owners).toContain(`cli/commands/${c.name}.ts`);
  });

  it('runs: --help, and exec of a wasm fixture', () => {
    const help = node([join(dist, 'main.js'), '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: berth <command>/);
    const exec = node([join(dist, 'main.js'), 'exec', 'tests/fixtures/wasi/args-env.wasm', 'hi']);
    expect(exec.stdout).toBe('arg[0]=tests/fixtures/wasi/args-env.wasm\narg[1]=hi\nHOME=(unset)\n');
    expect(exec.stderr).toBe('');
    expect(exec.status).toBe(2); // the fixture exits with argc
  });

  it('records its sources, and is stale when one of them changes or it is missing', () => {
    const manifest = JSON.parse(readFileSync(join(dist, 'build.json'), 'utf8')) as {
      inputs: [string, number, number][];
    };
    const paths = manifest.inputs.map(([p]) => p);
    expect(paths).toEqual(expect.arrayContaining(['cli/main.ts', 'cli/commands/exec.ts', 'scripts/build-cli.js']));
    // The real tree may be edited while this runs: judge a copy whose one entry is off.
    const copy = mkdtempSync(join(ROOT, '.test-results', 'cli-stale-'));
    try {
      expect(staleReason(copy)).toMatch(/is not built$/);
      const [path, mtime, size] = manifest.inputs.find(([p]) => p === 'cli/main.ts')!;
      writeFileSync(join(copy, 'build.json'), JSON.stringify({ inputs: [[path, mtime - 1000, size]] }));
      expect(staleReason(copy)).toBe(`cli/main.ts changed since ${relative(ROOT, copy)}/ was built`);
      writeFileSync(join(copy, 'build.json'), JSON.stringify({ inputs: [[path, mtime, size]] }));
      expect(staleReason(copy)).toBe(null);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('bin/berth.js runs the sources with tsx when told to, with the same result', () => {
    const r = node([join(ROOT, 'bin/berth.js'), '--help'], { BERTH_CLI: 'src' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(node([join(dist, 'main.js'), '--help']).stdout);
  });
});
