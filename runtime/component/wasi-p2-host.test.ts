// The WASI 0.2 host's own metering of the work a call does for a component, as jco's glue calls it:
// a call costs the guest one charge however much it does, so past the deadline a call whose work
// is large (growing a file, writing past its end, a huge path, a large listing) throws the
// deadline (told first) before doing it. And write-zeroes asks no more than check-write permits.
import { describe, expect, it } from 'vitest';
import { DeadlineExceeded } from '../core/index.ts';
import type { MemFile } from '../vfs/mem-tree.ts';
import { MemTree, Space } from '../vfs/mem-tree.ts';
import { MAX_LIVE_RESOURCES, wasiP2Imports } from './wasi-p2-host.ts';
import { wasiHttpImports } from './wasi-http-host.ts';
import { LISTED_MAX } from '../wasi/dir-descriptor.ts';

const MiB2 = 2 * 1024 * 1024;

function host(deadline?: { deadlineAt: number; onDeadline: (e: DeadlineExceeded) => void }) {
  const root = new MemTree().createRoot();
  const many = root.createDir('many');
  for (let i = 0; i < 40_000; i++) many.createFile(`f${i}`);
  const imports = wasiP2Imports({ args: [], env: {}, root, ...deadline });
  const [[dir]] = (imports['wasi:filesystem/preopens'] as { getDirectories: () => [any, string][] }).getDirectories();
  const file = dir.openAt({}, 'f', { create: true }, { read: true, write: true });
  const listing = dir.openAt({}, 'many', { directory: true }, { read: true });
  return { root, dir, file, listing, node: root.lookup('f') as MemFile };
}

describe('the WASI 0.2 host past the deadline', () => {
  it('growing a file, writing past its end, a huge path and a large listing meet it first', () => {
    const told: DeadlineExceeded[] = [];
    const { dir, file, listing, node } = host({ deadlineAt: performance.now() - 1, onDeadline: (e) => told.push(e) });
    expect(() => file.setSize(BigInt(MiB2))).toThrow(DeadlineExceeded);
    expect(() => file.write(new Uint8Array(1), BigInt(MiB2))).toThrow(DeadlineExceeded);
    expect(() => file.writeViaStream(BigInt(MiB2)).write(new Uint8Array(1))).toThrow(DeadlineExceeded);
    expect(() => dir.statAt({}, 'x'.repeat(MiB2))).toThrow(DeadlineExceeded);
    expect(() => listing.readDirectory()).toThrow(DeadlineExceeded);
    expect(told).toHaveLength(5);
    expect(node.stat().size).toBe(0n); // none of it was done
    // With no deadline, the same calls do their work (the huge path is refused as too long).
    const free = host();
    free.file.setSize(BigInt(MiB2));
    expect(free.node.stat().size).toBe(BigInt(MiB2));
    expect(() => free.dir.statAt({}, 'x'.repeat(MiB2))).toThrow('name-too-long');
    expect(free.listing.readDirectory().readDirectoryEntry()).toBeDefined();
  });

  it('write-zeroes of more than check-write permits fails as a write does, it does not trap', () => {
    const { file } = host();
    const out = file.writeViaStream(0n);
    expect(() => out.writeZeroes(2n ** 40n)).toThrow(expect.objectContaining({ tag: 'last-operation-failed' }));
    out.writeZeroes(16n);
  });
});

describe('the WASI 0.2 host and the Space of its files', () => {
  const dispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
  it('a stream outlives its descriptor: it writes and reads on, and the file is counted until both are dropped', () => {
    const space = new Space(16 * 2 ** 20);
    const root = new MemTree(1n, space).createRoot();
    const imports = wasiP2Imports({ args: [], env: {}, root });
    const [[pre]] = (imports['wasi:filesystem/preopens'] as { getDirectories: () => [any, string][] }).getDirectories();
    const base = space.used;
    const chunk = new Uint8Array(2 ** 20).fill(7);
    for (let round = 0; round < 40; round++) {
      const d = pre.openAt({}, 'tmp.o', { create: true, truncate: true }, { read: true, write: true });
      const out = d.writeViaStream(0n);
      const inp = d.readViaStream(0n);
      d[dispose](); // the guest drops the descriptor first
      pre.unlinkFileAt('tmp.o');
      out.blockingWriteAndFlush(chunk);
      expect(inp.read(16n)).toEqual(chunk.subarray(0, 16));
      expect(space.used).toBeGreaterThan(base + 2 ** 20);
      out[dispose]();
      inp[dispose]();
      inp[dispose](); // a second drop gives nothing back twice
      expect(space.used).toBe(base);
    }
  });
});

describe('host resources a guest may hold', () => {
  const dispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
  it('at most 65,536 at once: one more traps (resource-exhausted); one dropped makes room', () => {
    const imports = wasiP2Imports({ args: [], env: {}, root: new MemTree().createRoot() });
    const clock = imports['wasi:clocks/monotonic-clock'] as { subscribeDuration: (d: bigint) => any };
    const held: any[] = [];
    // The preopen's descriptor is one of them.
    const [[pre]] = (imports['wasi:filesystem/preopens'] as { getDirectories: () => [any, string][] }).getDirectories();
    expect(pre).toBeDefined();
    let made = 0;
    expect(() => {
      for (;;) {
        held.push(clock.subscribeDuration(1n));
        made++;
      }
    }).toThrow(/holds 65536 host resources/);
    // The host made a few of its own first (the preopen's descriptor, the standard streams).
    expect(made).toBeGreaterThan(MAX_LIVE_RESOURCES - 16);
    expect(made).toBeLessThan(MAX_LIVE_RESOURCES);
    held.pop()[dispose]();
    held.push(clock.subscribeDuration(1n));
    expect(() => clock.subscribeDuration(1n)).toThrow(/resource/);
    for (const p of held) p[dispose]();
    for (let i = 0; i < 1000; i++) clock.subscribeDuration(1n)[dispose]();
  });

  it('a descriptor or stream refused at the limit holds nothing of its file: the bytes come back when it is removed', () => {
    const space = new Space(16 * 2 ** 20);
    const root = new MemTree(1n, space).createRoot();
    const imports = wasiP2Imports({ args: [], env: {}, root });
    const clock = imports['wasi:clocks/monotonic-clock'] as { subscribeDuration: (d: bigint) => any };
    const [[pre]] = (imports['wasi:filesystem/preopens'] as { getDirectories: () => [any, string][] }).getDirectories();
    const base = space.used;
    const d = pre.openAt({}, 'big', { create: true }, { read: true, write: true });
    d.write(new Uint8Array(2 ** 20).fill(1), 0n);
    const held: any[] = [];
    expect(() => {
      for (;;) held.push(clock.subscribeDuration(1n));
    }).toThrow(/resource/);
    expect(() => pre.openAt({}, 'big', {}, { read: true, write: true })).toThrow(/resource/);
    expect(() => d.readViaStream(0n)).toThrow(/resource/);
    expect(() => d.writeViaStream(0n)).toThrow(/resource/);
    expect(() => d.appendViaStream()).toThrow(/resource/);
    d[dispose]();
    pre.unlinkFileAt('big');
    expect(space.used).toBe(base);
    for (const p of held) p[dispose]();
  });

  it('wasi:http resources count too: clones of a fields without end trap', () => {
    const base = wasiP2Imports({ args: [], env: {}, root: new MemTree().createRoot() });
    const t = wasiHttpImports(base, {}).imports['wasi:http/types'] as any;
    const f = t.Fields.fromList([['x-big', new Uint8Array(60 * 1024).fill(0x61)]]);
    const clones: unknown[] = [];
    expect(() => {
      for (;;) clones.push(f.clone());
    }).toThrow(/resource/);
    expect(clones.length).toBeGreaterThan(MAX_LIVE_RESOURCES - 16);
    expect(clones.length).toBeLessThan(MAX_LIVE_RESOURCES);
  });
});

describe('directory listings the guest holds', () => {
  const dispose: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');
  it('count together: past 2^20 entries a listing is insufficient-memory; a dropped stream makes room', () => {
    const root = new MemTree().createRoot();
    for (let i = 0; i < 10_000; i++) root.createFile(`f${i}`);
    const imports = wasiP2Imports({ args: [], env: {}, root });
    const [[pre]] = (imports['wasi:filesystem/preopens'] as { getDirectories: () => [any, string][] }).getDirectories();
    const streams: any[] = [];
    let refused: unknown;
    try {
      for (;;) streams.push(pre.readDirectory());
    } catch (e) {
      refused = e;
    }
    expect(refused).toBe('insufficient-memory');
    expect(streams.length).toBe(Math.floor(LISTED_MAX / 10_000));
    expect(streams[0].readDirectoryEntry()).toEqual({ type: 'regular-file', name: 'f0' });
    streams.pop()[dispose]();
    streams.push(pre.readDirectory());
  });
});

// From a review by attack: an offset past 2^53 became another number, and a host file's write
// landed at its current position instead of failing.
describe('offsets past 2^53', () => {
  it('are refused as file-too-large by read, write and the streams', () => {
    const { file, node } = host();
    file.write(new TextEncoder().encode('keep'), 0n);
    const huge = 2n ** 64n - 8n;
    for (const call of [
      () => file.write(new Uint8Array(4), huge),
      () => file.read(4n, huge),
      () => file.writeViaStream(huge),
      () => file.readViaStream(huge),
    ])
      expect(call).toThrow('file-too-large');
    expect(node.stat().size).toBe(4n);
  });
});
