// Throughput checks with generous bounds (they catch quadratic behaviour, not small regressions);
// the measured times are printed for the record.
import { describe, expect, it } from 'vitest';
import { MemTree } from '../vfs/mem-tree.ts';
import { fixtureModule, runFixture } from '../../tests/fixtures/wasi/run-fixture.ts';
import { Wasi } from './index.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe('throughput', () => {
  it('runs a precompiled hello quickly', () => {
    const mod = fixtureModule('args-env');
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      let out = 0;
      const wasi = new Wasi({ args: ['hello'], stdout: (c) => (out += c.length) });
      wasi.start(new WebAssembly.Instance(mod, wasi.imports));
      times.push(performance.now() - t0);
      expect(out).toBe('arg[0]=hello\nHOME=(unset)\n'.length);
    }
    console.log(`hello (precompiled, instantiate + run), median of 200: ${median(times).toFixed(3)} ms`);
    expect(median(times)).toBeLessThan(20);
  });
  it('does 100k 16-byte fd_writes to stdout', () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const r = runFixture('bench-writes');
      times.push(performance.now() - t0);
      expect(r.code).toBe(0);
      expect(r.stdoutBytes.length).toBe(1_600_000);
    }
    console.log(`100k 16-byte fd_write, median of 5: ${median(times).toFixed(1)} ms`);
    expect(median(times)).toBeLessThan(2000);
  });
  it('creates, reads and deletes 10k files in memory', () => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const root = new MemTree().createRoot();
      const t0 = performance.now();
      const r = runFixture('bench-files', { args: ['x', '10000'], preopens: [{ guestPath: '/', dir: root }] });
      times.push(performance.now() - t0);
      expect(r.stdout).toBe(`sum=${(9999 * 10000) / 2}\n`);
      expect(root.size).toBe(0);
    }
    console.log(`10k files create+read+delete, median of 3: ${median(times).toFixed(1)} ms`);
    expect(median(times)).toBeLessThan(5000);
  });
});
