// `berth exec`: runs a local .wasm through berth's WASI broker with host directories mounted, like
// `wasmtime run --dir`. Stdin is pulled from fd 0 as the program reads, stdout and stderr are
// written through chunk by chunk while it runs, and the exit code passes through (a trap: its
// message and wasm stack on stderr, exit 134).
import { readFileSync } from 'node:fs';
import { ProgramLoadError, RuntimeError } from '../../runtime/core/index.ts';
import { HostDir } from '../../runtime/vfs/host-dir.ts';
import { requireCoreModule, requireImportsProvided, wasmBinaryKind } from '../../runtime/wasm/index.ts';
import { runComponent } from '../../runtime/component/index.ts';
import type { FsDir } from '../../runtime/core/index.ts';
import { DEFAULT_RUN_FILES_BYTES, MemTree, Space, withMounts } from '../../runtime/vfs/index.ts';
import { nodeComponentLoader } from '../component-loader.ts';
import { ProcExit, Wasi, WasiError, type WasiPreopen } from '../../runtime/wasi/index.ts';
import { addEnv, addEnvFile, parseDirMount } from '../args.ts';
import { defineCommand, UsageError } from '../command.ts';
import { fdWriter, stdinPullSource } from '../stdio.ts';

const TRAP_EXIT = 134;

export const execCommand = defineCommand({
  synopsis: 'FILE.wasm [--] [ARGS...]',
  // Options come before FILE.wasm; everything after it is the program's.
  optionsFirst: true,
  options: {
    dir: {
      type: 'string',
      multiple: true,
      value: 'HOST[:GUEST]',
      help: 'mount the host directory HOST at GUEST (or at the same path)',
    },
    env: {
      type: 'string',
      short: 'e',
      multiple: true,
      value: 'K=V',
      help: "set an environment variable (K alone: the host's value, if it has one)",
    },
    'env-file': {
      type: 'string',
      multiple: true,
      value: 'FILE',
      help: 'set the K=V lines of FILE (later -e and --env-file override earlier ones)',
    },
    trace: { type: 'boolean', help: 'print each WASI call on stderr, like strace' },
  },
  async run({ values, positionals, options }) {
    const [file, ...rest] = positionals;
    if (file === undefined) throw new UsageError('no FILE.wasm given');
    const args = rest[0] === '--' ? rest.slice(1) : rest;
    const dirs = values.dir.map(parseDirMount);
    // -e and --env-file apply in command-line order, so a later one overrides an earlier one.
    const env: Record<string, string> = {};
    for (const o of options) {
      if (o.name === 'env') addEnv(env, o.value!, `${o.rawName} ${o.value}`, true);
      if (o.name === 'env-file') addEnvFile(env, o.value!);
    }
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new ProgramLoadError(
        'missing',
        new RuntimeError('not-found', `exec: cannot read ${file}: ${(e as Error).message}`),
      );
    }
    if (wasmBinaryKind(bytes) === 'component') return execComponent(file, bytes, args, env, dirs);
    requireCoreModule(bytes, `exec: ${file}`);
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    } catch (e) {
      throw new ProgramLoadError(
        'cannot-run',
        new RuntimeError(
          'invalid-argument',
          `exec: ${file} is not a valid WebAssembly module: ${(e as Error).message}`,
        ),
      );
    }
    const preopens: WasiPreopen[] = dirs.map(({ host, guest }) => {
      let dir: HostDir;
      try {
        dir = HostDir.open(host);
      } catch (e) {
        throw new RuntimeError('not-found', `exec: --dir ${host}: ${(e as Error).message}`);
      }
      // A directory mounted at "/" is a root filesystem: its absolute symlinks mean itself.
      return { guestPath: guest, dir, absoluteSymlinks: guest === '/' ? 'root' : 'refuse' };
    });
    const enc = new TextEncoder();
    const stderr = fdWriter(2);
    const wasi = new Wasi({
      args: [file, ...args],
      env,
      preopens,
      stdin: stdinPullSource(),
      stdout: fdWriter(1),
      stderr,
      terminal: hostTerminal(),
      trace: values.trace ? (line) => writeQuietly(stderr, enc.encode(`[wasi] ${line}\n`)) : undefined,
    });
    requireImportsProvided(module, wasi.imports, `exec: ${file}`);
    const instance = await WebAssembly.instantiate(module, wasi.imports);
    try {
      return wasi.start(instance) & 0xff;
    } catch (e) {
      if (e instanceof ProcExit) return e.code & 0xff;
      if (!(e instanceof WebAssembly.RuntimeError || e instanceof RangeError)) throw e; // RangeError: wasm stack overflow
      return reportTrap(stderr, file, e);
    }
  },
});

/**
 * A WASI 0.2 command component: transpiled by jco, run over berth's WASI 0.2 host. Its filesystem
 * is one tree: the --dir mounts at their paths (an empty in-memory root where none is at "/").
 */
async function execComponent(
  file: string,
  bytes: Uint8Array,
  args: string[],
  env: Record<string, string>,
  dirs: { host: string; guest: string }[],
): Promise<number> {
  const mounts = dirs.map(({ host, guest }) => {
    try {
      return { path: guest, dir: HostDir.open(host) as FsDir };
    } catch (e) {
      throw new RuntimeError('not-found', `exec: --dir ${host}: ${(e as Error).message}`);
    }
  });
  const top = mounts.find((m) => /^\/*$/.test(m.path));
  const rest = mounts.filter((m) => m !== top);
  // With no directory at /, a scratch root in memory, which holds at most what a run's files may.
  const base = top?.dir ?? new MemTree(undefined, new Space(DEFAULT_RUN_FILES_BYTES)).createRoot();
  const root = rest.length ? withMounts(base, rest) : base;
  const component = await nodeComponentLoader().get(file, async () => bytes);
  const stderr = fdWriter(2);
  const r = await runComponent(component, {
    args: [file, ...args],
    env,
    root,
    stdin: stdinPullSource(),
    stdout: fdWriter(1),
    stderr,
    terminal: hostTerminal(),
  });
  if (r.error && !r.deadline) return reportTrap(stderr, file, r.error);
  return r.exitCode;
}

/** exec passes berth's own streams through, so each is a terminal when berth's is (as wasmtime run). */
function hostTerminal() {
  return {
    stdin: process.stdin.isTTY === true,
    stdout: process.stdout.isTTY === true,
    stderr: process.stderr.isTTY === true,
  };
}

/** Says on stderr that `file` trapped, with the wasm stack, and gives the trap's exit code. */
function reportTrap(stderr: (chunk: Uint8Array) => void, file: string, e: Error): number {
  const stack = (e.stack ?? '').split('\n').slice(1).join('\n');
  writeQuietly(stderr, new TextEncoder().encode(`berth: ${file} trapped: ${e.message}\n${stack}\n`));
  return TRAP_EXIT;
}

/** Writes berth's own lines to stderr; if nobody reads stderr any more, they are dropped. */
function writeQuietly(sink: (chunk: Uint8Array) => void, chunk: Uint8Array): void {
  try {
    sink(chunk);
  } catch (e) {
    if (!(e instanceof WasiError)) throw e;
  }
}
