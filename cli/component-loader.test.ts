// WASI 0.2 command components in Node, against the same C programs run as preview1 modules: each
// fixture in tests/fixtures/components is the preview1 fixture of tests/fixtures/wasi wrapped as a
// `wasi:cli/command` component (jco new --wasi-command, see tests/fixtures/Makefile), so the
// component, through jco's glue and berth's WASI 0.2 host over berth's VFS, must give what the
// module gives through berth's preview1 broker (and fs-ops what Linux gives).
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { runComponent } from '../runtime/component/index.ts';
import type { FsDir, FsFile } from '../runtime/core/index.ts';
import { MemTree, type MemDir } from '../runtime/vfs/mem-tree.ts';
import { runFixture, sandboxTree } from '../tests/fixtures/wasi/run-fixture.ts';
import { nodeComponentLoader } from './component-loader.ts';

const loader = nodeComponentLoader();
const dec = new TextDecoder();

async function runC(
  name: string,
  options: { args?: string[]; env?: Record<string, string>; root?: FsDir; stdin?: Uint8Array } = {},
) {
  const component = await loader.get(name, async () =>
    readFileSync(new URL(`../tests/fixtures/components/${name}.component.wasm`, import.meta.url)),
  );
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const r = await runComponent(component, {
    args: options.args ?? [name],
    env: options.env ?? {},
    root: options.root ?? new MemTree().createRoot(),
    stdin: options.stdin,
    stdout: (c) => out.push(c.slice()),
    stderr: (c) => err.push(c.slice()),
  });
  const bytes = new Uint8Array(Buffer.concat(out));
  return { ...r, stdout: dec.decode(bytes), stdoutBytes: bytes, stderr: dec.decode(Buffer.concat(err)) };
}

function fileText(dir: MemDir, path: string): string {
  let node: unknown = dir;
  for (const part of path.split('/')) node = (node as MemDir).lookup(part);
  const f = node as FsFile;
  const buf = new Uint8Array(Number(f.stat().size));
  f.read(0, buf);
  return dec.decode(buf);
}

describe('wasi:cli/command components in Node', { timeout: 60_000 }, () => {
  it('gets args and environment as the preview1 module does; a non-zero exit is 1 (WASI 0.2 carries no code)', async () => {
    const args = ['args-env', 'one', 'two words', 'ünï'];
    const env = { HOME: '/home/x', EMPTY: '', 'K=Q': 'v' };
    const c = await runC('args-env', { args, env: { HOME: '/home/x', EMPTY: '' } });
    const m = runFixture('args-env', { args, env: { HOME: '/home/x', EMPTY: '' } });
    expect(c.stdout).toBe(m.stdout);
    expect(c.stdout).toContain('arg[2]=two words\n');
    expect(m.code).toBe(4);
    expect(c.exitCode).toBe(1);
    void env;
  });

  it('passes stdin to stdout byte for byte', async () => {
    const input = new Uint8Array(300_000).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
    const c = await runC('echo', { stdin: input });
    expect(c.exitCode).toBe(0);
    expect(Buffer.compare(c.stdoutBytes, input)).toBe(0);
  });

  it('exits 0 for exit(0) and 1 for any other code; a trap is 134', async () => {
    expect((await runC('exit-code', { args: ['x', '0'] })).exitCode).toBe(0);
    expect((await runC('exit-code', { args: ['x', '42'] })).exitCode).toBe(1);
    const trap = await runC('exit-code', { args: ['x', 'trap'] });
    expect(trap.exitCode).toBe(134);
    expect(trap.stdout).toBe('before\n');
  });

  it('has clocks, sleeps and random bytes', async () => {
    const c = await runC('clock-random');
    expect(c.stdout).toContain('realtime_after_2020=1\n');
    const slept = Number(/slept_ms=(\d+)/.exec(c.stdout)?.[1]);
    expect(slept).toBeGreaterThanOrEqual(30);
    expect(slept).toBeLessThan(500);
    expect(c.stdout).toContain('random_differs=1');
  });

  it('reads and writes files as the preview1 module does', async () => {
    const rootC = new MemTree().createRoot();
    const rootM = new MemTree().createRoot();
    const c = await runC('file-io', { root: rootC });
    const m = runFixture('file-io', { preopens: [{ guestPath: '/', dir: rootM }] });
    expect(c.stderr).toBe('');
    expect(c.stdout).toBe(m.stdout);
    expect([...rootC.entries()].map(([n]) => n).sort()).toEqual([...rootM.entries()].map(([n]) => n).sort());
  });

  it('answers fs-ops as Linux does (tests/fixtures/wasi/fs-ops.expected), leaving the same tree', async () => {
    const root = new MemTree().createRoot();
    const c = await runC('fs-ops', { root });
    const expected = readFileSync(new URL('../tests/fixtures/wasi/fs-ops.expected', import.meta.url), 'utf8');
    expect(c.stdout.split('\n')).toEqual(expected.split('\n'));
    expect(c.exitCode).toBe(0);
    expect([...root.entries()].map(([n, node]) => `${n}:${node.kind}`).sort()).toEqual(
      ['d:dir', 'e:dir', 'g:file', 'loop1:symlink', 'loop2:symlink', 'lt:symlink', 'dlink:symlink'].sort(),
    );
    expect(fileText(root, 'g')).toBe('second');
  });

  it('refuses every escape from its root, and leaves what is outside untouched', async () => {
    const { outside, root } = sandboxTree();
    const c = await runC('sandbox', { root, env: { BERTH_ADAPTED: '1' } });
    expect(c.exitCode).toBe(0);
    const lines = Object.fromEntries(
      c.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(': ') as [string, string]),
    );
    // Each escape fails (the preview1 adapter inside the component reports not-permitted as EPERM).
    for (const attempt of [
      'dotdot',
      'sub/../../',
      'absolute',
      'absolute root',
      'symlink to ..',
      'symlink to .. last',
      'symlink to abs',
      'symlink mid escaping',
      'mkdir ../x',
      'follow made',
      'rename out',
      'link from outside',
      'stat up follow',
      'sub ../secret.txt',
    ]) {
      expect(lines[attempt], attempt).toBeDefined();
      expect(lines[attempt], attempt).not.toBe('0');
    }
    expect(lines['sub/.. ok']).toBe('0');
    expect(lines['symlink mid to sub ok']).toBe('0');
    expect(fileText(outside, 'secret.txt')).toBe('outside secret');
    expect([...outside.entries()].map(([n]) => n).sort()).toEqual(['jail', 'secret.txt']);
    expect(c.stdout).not.toContain('outside secret');
  });
});

// A program that makes and drops host resources in a loop must not make the host hold more: churn.c
// polls a clock that is due, which the preview1 adapter turns into a pollable made and dropped per
// call. jco's glue kept every one of them in a Set nothing reads (transpile.ts, mendGlue): 200,000
// polls held ~7 MiB until the run ended. The heap is read inside the run (at the program's one
// write, after a full collection), against the same program polling 1,000 times.
describe('a component that churns host resources', { timeout: 120_000 }, () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  async function heapGrowth(n: number): Promise<number> {
    const component = await loader.get('churn', async () =>
      readFileSync(new URL('../tests/fixtures/components/churn.component.wasm', import.meta.url)),
    );
    gc();
    const before = process.memoryUsage().heapUsed;
    let during = Number.NaN;
    let said = '';
    const r = await runComponent(component, {
      args: ['churn', String(n)],
      env: {},
      root: new MemTree().createRoot(),
      stdout: (c) => {
        gc();
        during = process.memoryUsage().heapUsed;
        said += dec.decode(c);
      },
    });
    expect(r.exitCode).toBe(0);
    expect(said).toBe(`churned ${n}\n`);
    return during - before;
  }

  it('holds nothing for the resources it dropped', async () => {
    const few = await heapGrowth(1_000);
    const many = await heapGrowth(200_000);
    expect(many - few).toBeLessThan(2 * 1024 * 1024);
  });

  it('prints no debug lines of jco whatever the environment says', async () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    process.env.JCO_DEBUG = '1';
    try {
      await heapGrowth(10);
      expect(debug).not.toHaveBeenCalled();
    } finally {
      delete process.env.JCO_DEBUG;
      debug.mockRestore();
    }
  });
});
