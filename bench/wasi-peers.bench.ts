// berth's WASI broker side by side with node:wasi, @wasmer/wasi 1.x and @bjorn3/browser_wasi_shim
// 0.4, in one run, on the same precompiled fixtures (tests/fixtures/wasi): instantiate + run of a
// hello program, 100,000 16-byte fd_writes, 10,000 files created/read/deleted, and a compute-bound
// SHA-256 loop. Each cell is the median of several runs, output checked on every run.
// In memory for berth, the shim and wasmer; node:wasi has no in-memory filesystem (its files go to
// a temp dir on tmpfs, /dev/shm, when there is one) and writes stdout to a host fd (/dev/null).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI as NodeWasi } from 'node:wasi';
import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI as ShimWasi } from '@bjorn3/browser_wasi_shim';
import { init as wasmerInit, WASI as WasmerWasi } from '@wasmer/wasi';
import { MemTree } from '../runtime/vfs/mem-tree.ts';
import { Wasi } from '../runtime/wasi/index.ts';
import type { BenchRow } from './bench-table.ts';

type Subject = 'berth' | 'node:wasi' | '@wasmer/wasi' | 'browser_wasi_shim';
const SUBJECTS: Subject[] = ['berth', 'node:wasi', '@wasmer/wasi', 'browser_wasi_shim'];

interface Case {
  fixture: string;
  args: string[];
  /** Runs per subject; the median is reported. */
  runs: number;
  withRoot: boolean;
  /** What stdout must be (length checked for big outputs). */
  check: (stdoutLength: number, stdout: string) => boolean;
}

const CASES: Record<string, Case> = {
  'hello (precompiled, instantiate + run)': {
    fixture: 'args-env',
    args: ['hello'],
    runs: 300,
    withRoot: false,
    check: (_n, s) => s === 'arg[0]=hello\nHOME=(unset)\n',
  },
  '100,000 16-byte fd_writes': {
    fixture: 'bench-writes',
    args: ['w'],
    runs: 7,
    withRoot: false,
    check: (n) => n === 1_600_000,
  },
  '10,000 files create + read + delete': {
    fixture: 'bench-files',
    args: ['f', '10000'],
    runs: 9,
    withRoot: true,
    check: (_n, s) => s === `sum=${(9999 * 10000) / 2}\n`,
  },
  'compute: SHA-256 of 4 MiB x 8': {
    fixture: 'bench-compute',
    args: ['c', '4', '8'],
    runs: 5,
    withRoot: false,
    check: (n) => n === 65,
  },
};

const modules = new Map<string, WebAssembly.Module>();
function fixture(name: string): WebAssembly.Module {
  let m = modules.get(name);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(new URL(`../tests/fixtures/wasi/${name}.wasm`, import.meta.url)));
    modules.set(name, m);
  }
  return m;
}

const dec = new TextDecoder();

/** One run; returns stdout (node:wasi: only its length is known, as /dev/null's size change is 0). */
type Runner = (c: Case) => { length: number; text: string };

function tmpfsDir(): string {
  let base = tmpdir();
  try {
    if (statSync('/dev/shm').isDirectory()) base = '/dev/shm';
  } catch {
    // no /dev/shm: the OS temp dir
  }
  return mkdtempSync(join(base, 'berth-bench-'));
}

function runners(): Record<Subject, Runner> {
  return {
    berth(c) {
      const chunks: Uint8Array[] = [];
      let length = 0;
      const wasi = new Wasi({
        args: c.args,
        stdout: (b) => {
          length += b.length;
          if (length < 4096) chunks.push(b);
        },
        preopens: c.withRoot ? [{ guestPath: '/', dir: new MemTree().createRoot() }] : [],
      });
      wasi.start(new WebAssembly.Instance(fixture(c.fixture), wasi.imports));
      return { length, text: length < 4096 ? chunks.map((b) => dec.decode(b)).join('') : '' };
    },
    'node:wasi'(c) {
      // Stdout goes to a temp file so the output can be checked; files to tmpfs.
      const dir = tmpfsDir();
      const outPath = join(dir, '.stdout');
      const out = openSync(outPath, 'w');
      try {
        const wasi = new NodeWasi({
          version: 'preview1',
          args: c.args,
          env: {},
          preopens: c.withRoot ? { '/': dir } : {},
          stdout: out,
          returnOnExit: true,
        });
        const inst = new WebAssembly.Instance(fixture(c.fixture), wasi.getImportObject() as WebAssembly.Imports);
        wasi.start(inst);
        closeSync(out);
        const bytes = readFileSync(outPath);
        return { length: bytes.length, text: bytes.length < 4096 ? bytes.toString() : '' };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    '@wasmer/wasi'(c) {
      const wasi = new WasmerWasi({ args: c.args, env: {}, preopens: c.withRoot ? { '/': '/' } : {} });
      wasi.instantiate(fixture(c.fixture), {});
      wasi.start();
      const out = wasi.getStdoutBuffer();
      wasi.free();
      return { length: out.length, text: out.length < 4096 ? dec.decode(out) : '' };
    },
    browser_wasi_shim(c) {
      const chunks: Uint8Array[] = [];
      let length = 0;
      const fds = [
        new OpenFile(new File([])),
        new ConsoleStdout((b: Uint8Array) => {
          length += b.length;
          if (length < 4096) chunks.push(b.slice());
        }),
        new ConsoleStdout(() => {}),
        ...(c.withRoot ? [new PreopenDirectory('/', new Map())] : []),
      ];
      const wasi = new ShimWasi(c.args, [], fds, { debug: false }); // its debug log is on unless told
      const inst = new WebAssembly.Instance(fixture(c.fixture), { wasi_snapshot_preview1: wasi.wasiImport });
      wasi.start(inst as never);
      return { length, text: length < 4096 ? chunks.map((b) => dec.decode(b)).join('') : '' };
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Times of every case for the given subjects, runs interleaved so drift hits all alike. */
function measure(subjects: Subject[]): Record<string, Record<string, number[] | string>> {
  const all = runners();
  const result: Record<string, Record<string, number[] | string>> = {};
  for (const [name, c] of Object.entries(CASES)) {
    const times: Record<string, number[] | string> = (result[name] = {});
    for (const subject of subjects) {
      try {
        all[subject](c); // warm-up (JIT of the host side; the module is already compiled)
        times[subject] = [];
      } catch (e) {
        times[subject] = `failed: ${(e as Error).message ?? String(e)}`.slice(0, 120);
      }
    }
    for (let i = 0; i < c.runs; i++) {
      for (const subject of subjects) {
        const t = times[subject];
        if (typeof t === 'string') continue;
        try {
          const t0 = performance.now();
          const out = all[subject](c);
          t.push(performance.now() - t0);
          if (!c.check(out.length, out.text))
            throw new Error(`wrong output (${out.length} bytes: ${JSON.stringify(out.text.slice(0, 80))})`);
        } catch (e) {
          times[subject] = `failed: ${(e as Error).message ?? String(e)}`.slice(0, 120);
        }
      }
    }
  }
  return result;
}

// node:wasi runs in a child process: in one process with the other runtimes it crashes Node 20
// (SIGSEGV/abort in V8 fast API calls on large programs, seen with returnOnExit: true), and
// --no-turbo-fast-api-calls cannot be set through NODE_OPTIONS.
const CHILD_ENV = 'BERTH_WASI_PEERS_CHILD';
function measureNodeWasiInChild(): Record<string, Record<string, number[] | string>> {
  const r = spawnSync(
    process.execPath,
    ['--no-turbo-fast-api-calls', '--no-warnings', '--import', 'tsx', fileURLToPath(import.meta.url)],
    {
      env: { ...process.env, [CHILD_ENV]: '1' },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  if (r.status !== 0) {
    const why = `failed: child exited ${r.status ?? r.signal}: ${r.stderr.slice(-200)}`;
    return Object.fromEntries(Object.keys(CASES).map((k) => [k, { 'node:wasi': why }]));
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export async function run(): Promise<BenchRow[]> {
  await wasmerInit();
  const only = process.env.BENCH_SUBJECTS?.split(',') as Subject[] | undefined;
  const subjects = SUBJECTS.filter((s) => !only || only.includes(s));
  const inProcess = measure(subjects.filter((s) => s !== 'node:wasi'));
  const child = subjects.includes('node:wasi') ? measureNodeWasiInChild() : {};
  const rows: BenchRow[] = [];
  for (const [name, c] of Object.entries(CASES)) {
    for (const subject of subjects) {
      const t =
        (subject === 'node:wasi' ? child[name]?.[subject] : inProcess[name]?.[subject]) ?? 'failed: not measured';
      let note = typeof t === 'string' ? t : `${c.runs} runs`;
      if (subject === 'node:wasi' && typeof t !== 'string') {
        note += c.withRoot
          ? '; files on tmpfs (/dev/shm); stdout to a file; own process'
          : '; stdout to a file; own process';
      }
      rows.push({
        benchmark: name,
        subject,
        metric: 'median',
        value: typeof t === 'string' ? NaN : median(t),
        unit: 'ms',
        note,
      });
    }
  }
  return rows;
}

if (process.env[CHILD_ENV]) {
  process.stdout.write(`${JSON.stringify(measure(['node:wasi']))}\n`);
}
