// `berth exec`: runs a local .wasm through berth's WASI broker with host directories mounted, like
// `wasmtime run --dir`. Stdin is pulled from fd 0 as the program reads, stdout and stderr are
// written through chunk by chunk while it runs, and the exit code passes through (a trap: its
// message and wasm stack on stderr, exit 134).
import { readFileSync, readSync, writeSync } from 'node:fs';
import { RuntimeError } from '../../runtime/core/index.ts';
import { HostDir } from '../../runtime/vfs/host-dir.ts';
import { ProcExit, Wasi, type WasiPreopen } from '../../runtime/wasi/index.ts';
import type { Command } from '../command.ts';
import { addEnvArg } from '../env-args.ts';

const USAGE = 'exec [--dir HOST[:GUEST]]... [-e K=V]... [--env-file F] [--trace] FILE.wasm [-- ARGS...]';
const TRAP_EXIT = 134;

interface ExecArgs {
  dirs: { host: string; guest: string }[];
  env: Record<string, string>;
  trace: boolean;
  file: string;
  args: string[];
}

const bad = (why: string): never => {
  throw new RuntimeError('invalid-argument', `exec: ${why}\nusage: berth ${USAGE}`);
};

function addEnv(env: Record<string, string>, kv: string, where: string): void {
  try {
    addEnvArg(env, kv, where, true);
  } catch (e) {
    bad((e as Error).message);
  }
}

function readEnvFile(path: string, env: Record<string, string>): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return bad(`--env-file ${path}: ${(e as Error).message}`);
  }
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    addEnv(env, t, `${path}:${i + 1}`);
  });
}

/** Options up to the first non-option word (the file); after it, everything is the program's. */
function parseExecArgs(argv: string[]): ExecArgs {
  const out: ExecArgs = { dirs: [], env: {}, trace: false, file: '', args: [] };
  let i = 0;
  const value = (name: string, inline: string | undefined): string => {
    if (inline !== undefined) return inline;
    const v = argv[++i];
    if (v === undefined) bad(`${name} needs a value`);
    return v!;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    switch (name) {
      case '--dir': {
        const spec = value(name, inline);
        const colon = spec.lastIndexOf(':');
        const host = colon > 0 ? spec.slice(0, colon) : spec;
        const guest = colon > 0 ? spec.slice(colon + 1) : spec;
        if (host === '' || guest === '') bad(`--dir ${spec}: expected HOST or HOST:GUEST`);
        out.dirs.push({ host, guest });
        break;
      }
      case '-e':
      case '--env':
        addEnv(out.env, value(name, inline), name);
        break;
      case '--env-file':
        readEnvFile(value(name, inline), out.env);
        break;
      case '--trace':
        out.trace = true;
        break;
      default:
        bad(`unknown option ${a}`);
    }
  }
  if (i >= argv.length) bad('no FILE.wasm given');
  out.file = argv[i]!;
  let rest = argv.slice(i + 1);
  if (rest[0] === '--') rest = rest.slice(1);
  out.args = rest;
  return out;
}

/** Writes all of `chunk` to a host fd, waiting out EAGAIN (a non-blocking pipe that is full). */
function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) {
    try {
      off += writeSync(fd, chunk, off, chunk.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return; // the reader went away: drop output, as a killed pipe would
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** A pull source over host fd 0: bytes, null at end of input, empty when it has nothing yet. */
function stdinSource(): (max: number) => Uint8Array | null {
  let buf = new Uint8Array(65536);
  return (max) => {
    if (buf.length < Math.min(max, 1 << 20)) buf = new Uint8Array(Math.min(max, 1 << 20));
    let n: number;
    try {
      n = readSync(0, buf, 0, Math.min(max, buf.length), null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') return new Uint8Array(0);
      if (code === 'EOF') return null; // Windows pipes
      throw e;
    }
    return n === 0 ? null : buf.slice(0, n);
  };
}

export const execCommand: Command = {
  name: 'exec',
  usage: USAGE,
  summary: 'run a local wasm32-wasi program with host directories mounted (like wasmtime run --dir)',
  async run(argv) {
    const opts = parseExecArgs(argv);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(opts.file);
    } catch (e) {
      throw new RuntimeError('not-found', `exec: cannot read ${opts.file}: ${(e as Error).message}`);
    }
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    } catch (e) {
      throw new RuntimeError('invalid-argument', `exec: ${opts.file} is not a valid WebAssembly module: ${(e as Error).message}`);
    }
    const preopens: WasiPreopen[] = opts.dirs.map(({ host, guest }) => {
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
    const wasi = new Wasi({
      args: [opts.file, ...opts.args],
      env: opts.env,
      preopens,
      stdin: stdinSource(),
      stdout: (c) => writeAll(1, c),
      stderr: (c) => writeAll(2, c),
      trace: opts.trace ? (line) => writeAll(2, enc.encode(`[wasi] ${line}\n`)) : undefined,
    });
    const instance = await WebAssembly.instantiate(module, wasi.imports);
    try {
      return wasi.start(instance) & 0xff;
    } catch (e) {
      if (e instanceof ProcExit) return e.code & 0xff;
      if (!(e instanceof WebAssembly.RuntimeError || e instanceof RangeError)) throw e; // RangeError: wasm stack overflow
      writeAll(2, enc.encode(`berth: ${opts.file} trapped: ${e.message}\n${(e.stack ?? '').split('\n').slice(1).join('\n')}\n`));
      return TRAP_EXIT;
    }
  },
};
