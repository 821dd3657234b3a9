// How long a `berth` process takes, start to exit, as whole processes: `berth --help` against
// `node -e 0` (the floor: a Node process that does nothing), and `berth exec` of a small WASI
// program against `node` running the same module with node:wasi in a tiny script (the floor for a
// wasm run). Each through bin/berth.js as built by `npm run build:cli` (dist-cli/), and through the
// tsx path every call took before (BERTH_CLI=src: the TypeScript sources compiled at start).
// And `berth run` of the same program packed as an image, as a core module and as a WASI 0.2
// component, the latter with the store's build cache (cli/build-cache.ts) and without.
// Medians of interleaved runs, output checked on every run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from '../scripts/build-cli.js';
import { staleReason } from '../scripts/cli-stale.js';
import { type BenchRow, percentile } from './bench-table.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/berth.js');
const WASM = 'tests/fixtures/wasi/args-env.wasm';
const RUNS = 21;
const WARMUP = 2;
const FALLBACK_NOTE = 'running the sources with tsx';

// What berth exec does, with node:wasi: read, compile, instantiate, run with stdio inherited.
const NODE_WASI_SCRIPT = `import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
const wasi = new WASI({ version: 'preview1', args: process.argv.slice(2), env: {}, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(process.argv[2]));
process.exitCode = wasi.start(await WebAssembly.instantiate(module, wasi.getImportObject()));
`;

interface Subject {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Checks one run's result. */
  check: (code: number | null, stdout: string, stderr: string) => boolean;
  /** Done before each run, untimed. */
  before?: () => void;
}

const helpOk = (code: number | null, stdout: string) => code === 0 && stdout.startsWith('usage: berth <command>');
const execOk = (code: number | null, stdout: string) =>
  code === 2 && stdout === `arg[0]=${WASM}\narg[1]=hi\nHOME=(unset)\n`;
const COMPONENT = 'tests/fixtures/components/args-env.component.wasm';
const CORE_IMAGE = 'localhost/bench/args-env:1';
const COMPONENT_IMAGE = 'localhost/bench/args-env-component:1';
// An image's program is called by its path in the image. It exits 2, which a component can only
// say as an error (1).
const runOk = (code: number | null, stdout: string) =>
  (code === 2 || code === 1) && /^arg\[0\]=\S+\narg\[1\]=hi\n/.test(stdout);

async function ensureBuilt(): Promise<void> {
  if (staleReason() !== null) await buildCli({ quiet: true });
}

export async function run(): Promise<BenchRow[]> {
  await ensureBuilt();
  const work = mkdtempSync(join(tmpdir(), 'berth-cli-start-'));
  const script = join(work, 'node-wasi.mjs');
  writeFileSync(script, NODE_WASI_SCRIPT);
  const store = join(work, 'store');
  for (const [file, ref] of [
    [WASM, CORE_IMAGE],
    [COMPONENT, COMPONENT_IMAGE],
  ]) {
    const packed = spawnSync(process.execPath, [BIN, 'pack', file!, '-t', ref!, '--store', store], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (packed.status !== 0) throw new Error(`berth pack ${file}: ${packed.stderr}`);
  }
  const subjects: Subject[] = [
    { name: 'node -e 0', args: ['-e', '0'], check: (code) => code === 0 },
    { name: 'berth --help', args: [BIN, '--help'], check: helpOk },
    { name: 'berth --help (tsx)', args: [BIN, '--help'], env: { BERTH_CLI: 'src' }, check: helpOk },
    {
      name: 'node + node:wasi',
      args: ['--no-warnings', script, WASM, 'hi'],
      check: execOk,
    },
    { name: 'berth exec', args: [BIN, 'exec', WASM, 'hi'], check: execOk },
    { name: 'berth exec (tsx)', args: [BIN, 'exec', WASM, 'hi'], env: { BERTH_CLI: 'src' }, check: execOk },
    // The same program as an image, run as a core module and as a WASI 0.2 component (its build
    // cache kept, as from the second run on; and emptied before each run, as the first run).
    { name: 'berth run (core module)', args: [BIN, 'run', '--store', store, CORE_IMAGE, 'hi'], check: runOk },
    { name: 'berth run (component)', args: [BIN, 'run', '--store', store, COMPONENT_IMAGE, 'hi'], check: runOk },
    {
      name: 'berth run (component, no build cache)',
      args: [BIN, 'run', '--store', store, COMPONENT_IMAGE, 'hi'],
      check: runOk,
      before: () => rmSync(join(store, 'cache'), { recursive: true, force: true }),
    },
  ];
  const times = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  let rebuilds = 0;
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const s of subjects) {
        for (let attempt = 0; ; attempt++) {
          s.before?.();
          const t0 = performance.now();
          const r = spawnSync(process.execPath, s.args, {
            cwd: ROOT,
            encoding: 'utf8',
            env: { ...process.env, BERTH_CLI: '', ...s.env },
          });
          const ms = performance.now() - t0;
          // A source edited meanwhile makes bin/berth.js fall back to tsx: rebuild, and run again.
          if (r.stderr.includes(FALLBACK_NOTE) && !s.env?.BERTH_CLI && attempt < 3) {
            await ensureBuilt();
            rebuilds++;
            continue;
          }
          if (!s.check(r.status, r.stdout, r.stderr))
            throw new Error(`${s.name}: unexpected result (exit ${r.status}): ${r.stdout}${r.stderr}`.slice(0, 300));
          if (i >= WARMUP) times.get(s.name)!.push(ms);
          break;
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const median = (name: string) =>
    percentile(
      [...times.get(name)!].sort((a, b) => a - b),
      50,
    );
  const note = `${RUNS} runs, interleaved${rebuilds ? `; rebuilt ${rebuilds}x (sources edited meanwhile)` : ''}`;
  const rows: BenchRow[] = [];
  const group = (benchmark: string, floor: string, built: string, tsx: string, floorNote: string) => {
    const [f, b, t] = [median(floor), median(built), median(tsx)];
    rows.push(
      { benchmark, subject: floor, metric: 'median', value: f, unit: 'ms', note: `${note}; ${floorNote}` },
      { benchmark, subject: built, metric: 'median', value: b, unit: 'ms', note: `${note}; dist-cli/ (esbuild)` },
      { benchmark, subject: tsx, metric: 'median', value: t, unit: 'ms', note: `${note}; BERTH_CLI=src` },
      { benchmark, subject: `${built} / ${floor}`, metric: 'ratio', value: b / f, unit: 'x' },
      { benchmark, subject: `${tsx} / ${floor}`, metric: 'ratio', value: t / f, unit: 'x' },
    );
  };
  group('berth --help', 'node -e 0', 'berth --help', 'berth --help (tsx)', 'the floor');
  group(
    `exec ${WASM.split('/').pop()}`,
    'node + node:wasi',
    'berth exec',
    'berth exec (tsx)',
    'node:wasi in a 5-line script',
  );
  const runBench = `run ${WASM.split('/').pop()} as an image: core module, WASI 0.2 component`;
  for (const name of ['berth run (core module)', 'berth run (component)', 'berth run (component, no build cache)'])
    rows.push({ benchmark: runBench, subject: name, metric: 'median', value: median(name), unit: 'ms', note });
  for (const name of ['berth run (component)', 'berth run (component, no build cache)'])
    rows.push({
      benchmark: runBench,
      subject: `${name} / node + node:wasi`,
      metric: 'ratio',
      value: median(name) / median('node + node:wasi'),
      unit: 'x',
    });
  rows.push({
    benchmark: runBench,
    subject: 'berth run (component) / berth run (core module)',
    metric: 'ratio',
    value: median('berth run (component)') / median('berth run (core module)'),
    unit: 'x',
  });
  rows.push({
    benchmark: `exec ${WASM.split('/').pop()}`,
    subject: 'node + node:wasi / node -e 0',
    metric: 'ratio',
    value: median('node + node:wasi') / median('node -e 0'),
    unit: 'x',
  });
  return rows;
}
