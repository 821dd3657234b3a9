// A large real program through berth's WASI broker: CRuby 3.4 built for wasm32-wasi (npm
// @ruby/3.4-wasm-wasi ships ruby+stdlib.wasm, ~30 MB, the stdlib packed inside). It is a reactor
// with a canonical-ABI interface (ruby-init, rb-eval-string-protect, ...); the few lines below
// lower strings into its memory the way its own JS driver does. Its JS-interop imports (used
// only by Ruby's `JS` library) are linked to functions that throw; these scripts never call them.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemTree, type MemDir, type MemFile } from '../../runtime/vfs/mem-tree.ts';
import { Wasi } from '../../runtime/wasi/index.ts';

let module: WebAssembly.Module;
const enc = new TextEncoder();
const dec = new TextDecoder();

beforeAll(async () => {
  const path = createRequire(import.meta.url).resolve('@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm');
  module = await WebAssembly.compile(await readFile(path));
}, 120_000);

interface RubyExports {
  memory: WebAssembly.Memory;
  cabi_realloc(old: number, oldSize: number, align: number, size: number): number;
  [name: string]: unknown;
}

/** Boots a Ruby VM over `work` (preopened at /home/ruby) and evaluates `script`; returns stdout, stderr and the eval state (0 = no exception). */
function ruby(script: string, work: MemDir): { state: number; stdout: string; stderr: string } {
  const out: string[] = [];
  const err: string[] = [];
  const wasi = new Wasi({
    args: ['ruby.wasm'],
    env: { HOME: '/home/ruby' },
    preopens: [{ guestPath: '/home/ruby', dir: work }],
    stdout: (c) => out.push(dec.decode(c)),
    stderr: (c) => err.push(dec.decode(c)),
  });
  const handles: number[] = [0];
  const imports: WebAssembly.Imports = {
    ...wasi.imports,
    canonical_abi: {
      'resource_new_rb-abi-value': (rep: number) => handles.push(rep) - 1,
      'resource_get_rb-abi-value': (handle: number) => handles[handle],
      'resource_drop_js-abi-value': () => {},
    },
  };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module in imports) continue;
    imports[imp.module] = {};
  }
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === 'wasi_snapshot_preview1' || imp.module === 'canonical_abi') continue;
    (imports[imp.module] as Record<string, unknown>)[imp.name] = () => {
      throw new Error(`ruby called the JS-interop import ${imp.module}.${imp.name}, which this test does not provide`);
    };
  }
  const instance = new WebAssembly.Instance(module, imports);
  wasi.initialize(instance);
  const ex = instance.exports as unknown as RubyExports;
  const call = (prefix: string, ...args: number[]) => {
    const name = Object.keys(ex).find((k) => k.startsWith(`${prefix}:`))!;
    return (ex[name] as (...a: number[]) => number)(...args);
  };
  const lower = (s: string): [number, number] => {
    const b = enc.encode(s);
    const p = ex.cabi_realloc(0, 0, 1, b.length);
    new Uint8Array(ex.memory.buffer, p, b.length).set(b);
    return [p, b.length];
  };
  // As Ruby's own driver does: C strings, NUL-terminated.
  const args = ['ruby.wasm\0', '-EUTF-8\0', '-e_=0\0'];
  const list = ex.cabi_realloc(0, 0, 4, args.length * 8);
  for (const [i, a] of args.entries()) {
    const [p, l] = lower(a);
    new DataView(ex.memory.buffer).setUint32(list + i * 8, p, true);
    new DataView(ex.memory.buffer).setUint32(list + i * 8 + 4, l, true);
  }
  call('ruby-init', list, args.length);
  call('ruby-init-loadpath');
  const ret = call('rb-eval-string-protect', ...lower(`${script}\n$stdout.flush; $stderr.flush`));
  const state = new DataView(ex.memory.buffer).getInt32(ret + 4, true);
  return { state, stdout: out.join(''), stderr: err.join('') };
}

describe('CRuby 3.4 (wasm32-wasi) through the broker', () => {
  it('computes and uses the stdlib', () => {
    const r = ruby(
      'require "json"; require "digest"; puts (1..100).sum; puts JSON.generate({a: [1, 2]}); puts Digest::SHA256.hexdigest("abc")[0, 16]',
      new MemTree().createRoot(),
    );
    expect(r.stdout).toBe('5050\n{"a":[1,2]}\nba7816bf8f01cfea\n');
    expect(r.state).toBe(0);
  });

  it('reads, writes, lists and renames files under a preopened directory', () => {
    const work = new MemTree().createRoot();
    work.createFile('in.txt').write(0, enc.encode('hello from a file\n'));
    const r = ruby(
      'Dir.mkdir("/home/ruby/sub"); File.write("/home/ruby/sub/out.txt", File.read("/home/ruby/in.txt").upcase); File.rename("/home/ruby/in.txt", "/home/ruby/old.txt"); puts Dir.children("/home/ruby").sort.inspect; puts File.size("/home/ruby/sub/out.txt")',
      work,
    );
    expect(r.stdout).toBe('["old.txt", "sub"]\n18\n');
    expect(r.state).toBe(0);
    const sub = work.lookup('sub') as MemDir;
    expect(dec.decode((sub.lookup('out.txt') as MemFile).contents())).toBe('HELLO FROM A FILE\n');
    expect(work.lookup('in.txt')).toBeUndefined();
  });

  it('raises Errno::ENOENT for a missing file and cannot read outside the preopen', () => {
    const r = ruby(
      'begin; File.read("/home/ruby/nope"); rescue SystemCallError => e; puts e.class; end; begin; File.read("/etc/passwd"); puts "escaped"; rescue SystemCallError => e; puts "refused"; end',
      new MemTree().createRoot(),
    );
    expect(r.stdout).toBe('Errno::ENOENT\nrefused\n');
  });

  it('reports an uncaught exception as a non-zero eval state', () => {
    expect(ruby('raise "boom"', new MemTree().createRoot()).state).not.toBe(0);
  });
});
