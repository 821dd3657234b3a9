// berth's WASI broker against the broker of another commit, in one process: both are bundled by
// esbuild (as the app ships them) and run interleaved on the same fixtures, so machine noise hits
// both alike. `npm run bench:against -- <commit>` (default: the commit before the rooms of issue 10)
// writes bench/results/wasi-against.md. It reads the other commit through a temporary git worktree.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { percentile, toMarkdown, type BenchRow } from './bench-table.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const base = process.argv[2] ?? '3052ff2';
const FIXTURES = join(ROOT, 'tests/fixtures/wasi');

interface Broker {
  Wasi: new (options: object) => { imports: WebAssembly.Imports; start(i: WebAssembly.Instance): number };
  MemTree: new () => { createRoot(): unknown };
}

async function bundle(tree: string, out: string): Promise<Broker> {
  const entry = join(out, 'entry.ts');
  writeFileSync(
    entry,
    `export { Wasi } from '${join(tree, 'runtime/wasi/index.ts')}';\nexport { MemTree } from '${join(tree, 'runtime/vfs/mem-tree.ts')}';\n`,
  );
  const file = join(out, 'broker.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: file,
    logLevel: 'warning',
  });
  return (await import(file)) as Broker;
}

const CASES = {
  'hello (instantiate + run)': { fixture: 'args-env', args: ['hello'], root: false, reps: 2000 },
  '100,000 16-byte fd_writes': { fixture: 'bench-writes', args: ['w'], root: false, reps: 150 },
  '2,000 files create + read + delete': { fixture: 'bench-files', args: ['f', '2000'], root: true, reps: 120 },
} as const;

function once(b: Broker, module: WebAssembly.Module, c: (typeof CASES)[keyof typeof CASES]): number {
  let n = 0;
  const wasi = new b.Wasi({
    args: c.args,
    stdout: (chunk: Uint8Array) => (n += chunk.length),
    preopens: c.root ? [{ guestPath: '/', dir: new b.MemTree().createRoot() }] : [],
  });
  const instance = new WebAssembly.Instance(module, wasi.imports);
  const t = performance.now();
  wasi.start(instance);
  const ms = performance.now() - t;
  if (n === 0) throw new Error('the fixture wrote nothing');
  return ms;
}

export async function run(): Promise<BenchRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'berth-against-'));
  const other = join(work, 'tree');
  try {
    execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', '-q', other, base]);
    const brokers = {
      [base]: await bundle(other, mkdtempSync(join(work, 'a-'))),
      HEAD: await bundle(ROOT, mkdtempSync(join(work, 'b-'))),
    };
    const rows: BenchRow[] = [];
    for (const [name, c] of Object.entries(CASES)) {
      const module = new WebAssembly.Module(readFileSync(join(FIXTURES, `${c.fixture}.wasm`)));
      const times: Record<string, number[]> = { [base]: [], HEAD: [] };
      // ABBA order, so neither broker always runs right after the other.
      const order = Object.entries(brokers);
      for (let i = 0; i < c.reps; i++)
        for (const [k, b] of i % 2 ? [...order].reverse() : order) times[k].push(once(b, module, c));
      // The first third warms the JIT.
      const med = (a: number[]) =>
        percentile(
          a.slice(Math.floor(a.length / 3)).sort((x, y) => x - y),
          50,
        );
      const before = med(times[base]);
      const after = med(times.HEAD);
      rows.push({
        benchmark: name,
        subject: `berth @${base}`,
        metric: 'median',
        value: before,
        unit: 'ms',
        note: `${c.reps} runs, interleaved`,
      });
      rows.push({
        benchmark: name,
        subject: 'berth @HEAD',
        metric: 'median',
        value: after,
        unit: 'ms',
        note: `${c.reps} runs, interleaved`,
      });
      rows.push({ benchmark: name, subject: 'HEAD / base', metric: 'ratio', value: after / before, unit: 'x' });
    }
    return rows;
  } finally {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', other], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  const header = `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`;
  const text = `# wasi-against.ts (base ${base})\n\n${header}\n\n${toMarkdown(rows)}\n`;
  writeFileSync(join(ROOT, 'bench/results/wasi-against.md'), text);
  console.log(text);
}
