// The Space of in-memory trees (mem-tree.ts): what a run's files hold in memory is counted against
// a limit, writes past it fail with ENOSPC, and bytes come back when nothing reaches them any more.
import { describe, expect, it } from 'vitest';
import { FsError, type FsDir, type FsFile, type FsNode, type FsOpenFile } from '../core/index.ts';
import { expectFsError, fsSuite, readAll } from '../../tests/suites/fs-suite.ts';
import { createOverlay } from './overlay.ts';
import { FORCED_SLACK, MemTree, Space, type MemDir } from './mem-tree.ts';
import { restoreDir, snapshotDir } from './volume-snapshot.ts';

const KiB = 1024;
function chunk(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

fsSuite('MemDir with a Space', () => new MemTree(1n, new Space(64 * 2 ** 20)).createRoot());
fsSuite('overlay whose upper has a Space', () =>
  createOverlay(new MemTree(9n).createRoot(), new MemTree(2n, new Space(64 * 2 ** 20)).createRoot()),
);

/** Writes `n` bytes to `f` in 64 KiB pieces; returns how many were written before a write failed. */
function fill(f: FsFile, n: number): number {
  let at = 0;
  try {
    while (at < n) {
      const piece = chunk(Math.min(64 * KiB, n - at), at);
      f.write(at, piece);
      at += piece.length;
    }
  } catch (e) {
    expect((e as { code?: string }).code).toBe('ENOSPC');
  }
  return at;
}

function tree(limit: number): { space: Space; root: MemDir } {
  const space = new Space(limit);
  return { space, root: new MemTree(1n, space).createRoot() };
}

describe('Space', () => {
  it('a write past the limit fails with ENOSPC; the file keeps what fit and the count stays under it', () => {
    const { space, root } = tree(1024 * KiB);
    const f = root.createFile('big');
    const written = fill(f, 4096 * KiB);
    expect(written).toBeGreaterThanOrEqual(960 * KiB);
    expect(written).toBeLessThan(1024 * KiB);
    expect(space.used).toBeLessThanOrEqual(space.limit);
    const back = readAll(f);
    expect(back.length).toBe(written);
    expect(back.subarray(written - 64 * KiB)).toEqual(chunk(64 * KiB, written - 64 * KiB));
    expectFsError(() => f.truncate(2048 * KiB), 'ENOSPC');
  });

  it("gives a file's bytes back when its last name goes, and a directory's when removed", () => {
    const { space, root } = tree(1024 * KiB);
    const empty = space.used;
    for (let i = 0; i < 5; i++) {
      expect(fill(root.createFile('t'), 600 * KiB)).toBe(600 * KiB);
      root.unlink('t');
    }
    root.createDir('d').createFile('x');
    (root.lookup('d') as MemDir).unlink('x');
    root.rmdir('d');
    expect(space.used).toBe(empty);
  });

  it('keeps counting a file whose name is gone while a handle is open, and reads it whole through it', () => {
    const { space, root } = tree(1024 * KiB);
    const handle = root.createFile('tmp').open();
    expect(fill(handle, 600 * KiB)).toBe(600 * KiB);
    root.unlink('tmp');
    // Still held: a second 600 KiB does not fit beside it.
    expect(fill(root.createFile('other'), 600 * KiB)).toBeLessThan(600 * KiB);
    root.unlink('other');
    expect(readAll(handle).length).toBe(600 * KiB);
    handle.close();
    handle.close(); // a second close gives nothing back twice
    expect(fill(root.createFile('after'), 600 * KiB)).toBe(600 * KiB);
    expect(space.used).toBeLessThanOrEqual(space.limit);
  });

  it('counts hard links as one file: its bytes come back with the last name', () => {
    const { space, root } = tree(1024 * KiB);
    const empty = space.used;
    fill(root.createFile('a'), 500 * KiB);
    root.link('b', root.lookup('a')!);
    expect(fill(root.createFile('c'), 600 * KiB)).toBeLessThan(600 * KiB);
    root.unlink('c');
    root.unlink('a');
    expect(space.used).toBeGreaterThan(empty + 500 * KiB);
    root.unlink('b');
    expect(space.used).toBe(empty);
  });

  it('gives back a file replaced by a rename, and refuses a rename whose new name does not fit', () => {
    const { space, root } = tree(1024 * KiB);
    fill(root.createFile('old'), 600 * KiB);
    root.createFile('new');
    root.rename('new', root, 'old');
    expect(fill(root.lookup('old') as FsFile, 600 * KiB)).toBe(600 * KiB);
    // Fill what is left with names, then a rename to a longer name has no room for it.
    const before = space.used;
    let i = 0;
    try {
      for (;;) root.createFile(`${i++}`.padStart(200, '0'));
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ENOSPC');
    }
    expect(space.used).toBeGreaterThan(before);
    expectFsError(() => root.rename('old', root, 'x'.repeat(255)), 'ENOSPC');
    expect(root.lookup('old')).toBeDefined();
  });

  it('counts names and nodes: empty files with long names run out too', () => {
    const { space, root } = tree(256 * KiB);
    let made = 0;
    try {
      for (;;) root.createFile(`${made++}`.padStart(200, 'n'));
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ENOSPC');
    }
    expect(made).toBeGreaterThan(100);
    expect(made).toBeLessThan(1000);
    expect(space.used).toBeLessThanOrEqual(space.limit);
  });

  it('a volume restored past the limit fails with ENOSPC', () => {
    const { root } = tree(4096 * KiB);
    fill(root.createFile('v'), 2048 * KiB);
    expect(() => restoreDir(snapshotDir(root), new MemTree(3n, new Space(1024 * KiB)))).toThrow(/no space left/);
  });
});

describe('Space through the overlay', () => {
  function overlay(limit: number, lowerFiles: Record<string, number>, links: [string, string][] = []) {
    const lower = new MemTree(9n).createRoot();
    for (const [name, size] of Object.entries(lowerFiles)) lower.createFile(name).write(0, chunk(size));
    for (const [name, to] of links) lower.link(name, lower.lookup(to)!);
    const space = new Space(limit);
    return { space, root: createOverlay(lower, new MemTree(2n, space).createRoot()) as FsDir };
  }

  it('counts a copy-up whole: appending a byte to a big image file copies it into memory', () => {
    const { space, root } = overlay(1024 * KiB, { a: 700 * KiB, b: 700 * KiB });
    const a = root.lookup('a') as FsFile;
    a.write(700 * KiB, Uint8Array.of(1));
    expect(space.used).toBeGreaterThan(700 * KiB);
    expectFsError(() => (root.lookup('b') as FsFile).write(700 * KiB, Uint8Array.of(1)), 'ENOSPC');
    // The failed copy-up left nothing: b reads as the image has it, and its bytes did not stay counted.
    expect(readAll(root.lookup('b') as FsFile)).toEqual(chunk(700 * KiB));
    root.unlink('a');
    (root.lookup('b') as FsFile).write(700 * KiB, Uint8Array.of(1));
  });

  it('a handle opened before the copy-up keeps the copy counted after its name goes (tmpfile)', () => {
    const { space, root } = overlay(1024 * KiB, { a: 100 * KiB });
    const handle = (root.lookup('a') as FsFile & { open(): FsOpenFile }).open();
    expect(fill(handle, 600 * KiB)).toBe(600 * KiB); // copies up, then grows
    root.unlink('a');
    expect(readAll(handle).length).toBe(600 * KiB);
    expect(fill(root.createFile('other') as FsFile, 600 * KiB)).toBeLessThan(600 * KiB);
    root.unlink('other');
    handle.close();
    expect(fill(root.createFile('after') as FsFile, 600 * KiB)).toBe(600 * KiB);
    expect(space.used).toBeLessThanOrEqual(space.limit);
  });

  it('never gives back a copy of a lower file with other names in the lower: they still reach it', () => {
    const { space, root } = overlay(1024 * KiB, { a: 10 * KiB }, [['b', 'a']]);
    fill(root.lookup('a') as FsFile, 600 * KiB);
    root.unlink('a');
    // b is the same inode in the image, and reaches the copy: its bytes are still in memory.
    expect(readAll(root.lookup('b') as FsFile).length).toBe(600 * KiB);
    expect(fill(root.createFile('c') as FsFile, 600 * KiB)).toBeLessThan(600 * KiB);
    expect(space.used).toBeLessThanOrEqual(space.limit);
  });
});

describe('Space, from a review by attack', () => {
  it('a removed directory takes no new entries (ENOENT), so nothing is counted that nothing reaches', () => {
    const { space, root } = tree(4096 * KiB);
    const base = space.used;
    for (let i = 0; i < 5; i++) {
      const d = root.createDir('d');
      root.rmdir('d');
      expectFsError(() => d.createFile('f'), 'ENOENT');
      expectFsError(() => d.createDir('e'), 'ENOENT');
      root.createFile('x');
      expectFsError(() => root.rename('x', d, 'x'), 'ENOENT');
      root.unlink('x');
    }
    expect(space.used).toBe(base);
  });

  it('near the limit a file grows by half of what is left, not by each write (appends stay linear)', () => {
    const space = new Space(64 * 2 ** 20);
    let grown = 0;
    const take = space.take.bind(space);
    space.take = (n) => {
      if (n >= 64 * KiB) grown++;
      take(n);
    };
    const f = new MemTree(1n, space).createRoot().createFile('log');
    const piece = chunk(4 * KiB);
    let at = 0;
    try {
      for (;;) at += f.write(at, piece);
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ENOSPC');
    }
    expect(at).toBeGreaterThan(63 * 2 ** 20);
    // Doubling to 32 MiB, then halving what is left: about 30 reallocations, not 8,000.
    expect(grown).toBeLessThan(40);
  });

  it('a copy-up that does not fit gives back what the copy took (symlinks and directories too)', () => {
    const lower = new MemTree(9n).createRoot();
    lower.createSymlink('ls', 'x'.repeat(2000));
    lower.createDir('ld');
    const space = new Space(64 * KiB);
    const root = createOverlay(lower, new MemTree(2n, space).createRoot());
    const pad = root.createFile('pad') as FsFile;
    let at = 0;
    try {
      for (;;) at += pad.write(at, chunk(16));
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ENOSPC');
    }
    const full = space.used;
    for (let i = 0; i < 20; i++) {
      expectFsError(() => root.lookup('ls')!.setTimes(1n, 1n), 'ENOSPC');
      expectFsError(() => (root.lookup('ld') as FsDir).createFile('q'), 'ENOSPC');
    }
    expect(space.used).toBe(full);
  });

  it('a write through a handle whose name is gone does not bring the file back or touch a new one', () => {
    const lower = new MemTree(9n).createRoot();
    lower.createFile('x').write(0, chunk(10));
    const space = new Space(1024 * KiB);
    const root = createOverlay(lower, new MemTree(2n, space).createRoot());
    const handle = (root.lookup('x') as FsFile & { open(): FsOpenFile }).open();
    root.unlink('x');
    const whitedOut = space.used;
    const made = root.createFile('x') as FsFile;
    made.write(0, Uint8Array.of(42));
    expect(handle.write(0, chunk(20, 5))).toBe(20);
    expect(readAll(handle)).toEqual(chunk(20, 5));
    expect(readAll(root.lookup('x') as FsFile)).toEqual(Uint8Array.of(42));
    root.unlink('x');
    expect(root.lookup('x')).toBeUndefined();
    handle.close();
    expect(space.used).toBe(whitedOut);
  });
});

describe('Space, from a review of the fixes', () => {
  it('a copy-up that cannot fit its directories keeps nothing of the copy counted', () => {
    const lower = new MemTree(9n).createRoot();
    lower
      .createDir('d')
      .createFile('f')
      .write(0, chunk(500 * KiB));
    const measure = new Space(2 ** 30);
    createOverlay(lower, new MemTree(2n, measure).createRoot());
    // Room for the copy's node and bytes, not for its directory's copy too.
    const space = new Space(measure.used + 500 * KiB + 160 + 100);
    const root = createOverlay(lower, new MemTree(2n, space).createRoot());
    const before = space.used;
    const f = (root.lookup('d') as FsDir).lookup('f') as FsFile;
    expectFsError(() => f.write(0, Uint8Array.of(1)), 'ENOSPC');
    expect(space.used - before).toBeLessThan(300);
  });

  it('a file held open is still written after its directory is removed (rm -rf of an image directory)', () => {
    const lower = new MemTree(9n).createRoot();
    lower.createDir('d').createFile('f').write(0, chunk(10));
    const space = new Space(1024 * KiB);
    const root = createOverlay(lower, new MemTree(2n, space).createRoot());
    const d = root.lookup('d') as FsDir;
    const handle = (d.lookup('f') as FsFile & { open(): FsOpenFile }).open();
    d.unlink('f');
    root.rmdir('d');
    expect(handle.write(0, chunk(20, 3))).toBe(20);
    expect(readAll(handle)).toEqual(chunk(20, 3));
    expect(root.lookup('d')).toBeUndefined();
    handle.close();
  });

  it('gives back what growing left unused once a file is closed: three 300 KiB files fit in 1 MiB', () => {
    const { root } = tree(1024 * KiB);
    for (const name of ['a', 'b', 'c']) {
      const h = root.createFile(name).open();
      for (let at = 0; at < 300 * KiB; at += 4 * KiB) h.write(at, chunk(4 * KiB));
      h.close();
      expect((root.lookup(name) as FsFile).stat().size).toBe(BigInt(300 * KiB));
    }
  });
});

// A change refused for space (ENOSPC) is done whole or not at all: a removal must not bring back
// the image's file, a make must not show a deleted directory's contents, a rename must not lose the
// file it replaces. FailingSpace refuses every take after the first `allowed` ones, so each change
// is tried failing at each of its takes in turn, and at none.
class FailingSpace extends Space {
  allowed = Number.POSITIVE_INFINITY;
  override check(n: number): void {
    if (this.allowed <= 0) throw new FsError('ENOSPC', 'refused by the test');
    this.allowed--;
    super.check(n);
  }
}

describe('Space: a change refused for space is whole or not done', () => {
  const text = (f: FsNode | undefined) => new TextDecoder().decode(readAll(f as FsFile));
  const write = (f: FsNode | undefined, s: string) => {
    (f as FsFile).truncate(0);
    (f as FsFile).write(0, new TextEncoder().encode(s));
  };
  /** The image: a (a file), d/x and d/y. */
  function image(): FsDir {
    const lower = new MemTree(9n).createRoot();
    write(lower.createFile('a'), 'image a');
    const d = lower.createDir('d');
    write(d.createFile('x'), 'image x');
    write(d.createFile('y'), 'image y');
    return lower;
  }
  /** Runs `change` failing at each take in turn, and with none refused; `check` says what must hold. */
  function atEveryTake(
    setup: (root: FsDir) => void,
    change: (root: FsDir) => void,
    check: (root: FsDir, done: boolean) => void,
  ): void {
    let doneOnce = false;
    for (let allowed = 0; allowed < 16 && !doneOnce; allowed++) {
      const space = new FailingSpace(2 ** 30);
      const root = createOverlay(image(), new MemTree(2n, space).createRoot());
      setup(root);
      space.allowed = allowed;
      let done = true;
      try {
        change(root);
      } catch (e) {
        expect((e as FsError).code, `refused at take ${allowed}`).toBe('ENOSPC');
        done = false;
      }
      space.allowed = Number.POSITIVE_INFINITY;
      check(root, done);
      doneOnce = done;
    }
    expect(doneOnce).toBe(true);
  }

  it('removing a copied-up file held open: gone, or still the copy (never the image file again)', () => {
    let handle: FsOpenFile | undefined;
    atEveryTake(
      (root) => {
        handle = (root.lookup('a') as FsFile & { open(): FsOpenFile }).open();
        handle.write(0, new TextEncoder().encode('mine a!'));
      },
      (root) => root.unlink('a'),
      (root, done) => {
        if (done) expect(root.lookup('a')).toBeUndefined();
        else expect(text(root.lookup('a'))).toBe('mine a!');
        handle?.close();
      },
    );
  });

  it('making a file where the image file was deleted: there and empty, or still deleted', () => {
    atEveryTake(
      (root) => root.unlink('a'),
      (root) => root.createFile('a'),
      (root, done) => {
        if (done) expect(text(root.lookup('a'))).toBe('');
        else expect(root.lookup('a')).toBeUndefined();
      },
    );
  });

  it('making a directory where the image directory was deleted: there and empty, or still deleted', () => {
    atEveryTake(
      (root) => {
        const d = root.lookup('d') as FsDir;
        d.unlink('x');
        d.unlink('y');
        root.rmdir('d');
      },
      (root) => root.createDir('d'),
      (root, done) => {
        const d = root.lookup('d') as FsDir | undefined;
        if (done) expect([...d!.entries()]).toEqual([]);
        else expect(d).toBeUndefined();
      },
    );
  });

  it('renaming a file over a changed image file: moved, or both as they were', () => {
    atEveryTake(
      (root) => {
        write(root.createFile('b'), 'mine b');
        write(root.lookup('a'), 'mine a');
      },
      (root) => root.rename('b', root, 'a'),
      (root, done) => {
        if (done) {
          expect(root.lookup('b')).toBeUndefined();
          expect(text(root.lookup('a'))).toBe('mine b');
        } else {
          expect(text(root.lookup('b'))).toBe('mine b');
          expect(text(root.lookup('a'))).toBe('mine a');
        }
      },
    );
  });

  it('with the files full, image files can still be removed, up to FORCED_SLACK of whiteouts past the limit', () => {
    const lower = new MemTree(9n).createRoot();
    for (let i = 0; i < 1000; i++) lower.createFile(`image-file-${i}`);
    const space = new Space(256 * KiB);
    const root = createOverlay(lower, new MemTree(2n, space).createRoot());
    fill(root.createFile('full') as FsFile, 1024 * KiB);
    let removed = 0;
    try {
      for (; removed < 1000; removed++) root.unlink(`image-file-${removed}`);
    } catch (e) {
      expect((e as FsError).code).toBe('ENOSPC');
    }
    expect(removed).toBeGreaterThan(100);
    expect(removed).toBeLessThan(1000);
    expect(space.used).toBeLessThanOrEqual(space.limit + FORCED_SLACK);
    expect(root.lookup(`image-file-${removed - 1}`)).toBeUndefined();
    expect(root.lookup(`image-file-${removed}`)).toBeDefined();
  });

  it('a rename whose new name does not fit is refused before anything changes', () => {
    const measure = new Space(2 ** 30);
    const setup = (root: FsDir) => write(root.createFile('b'), 'mine b');
    setup(createOverlay(image(), new MemTree(2n, measure).createRoot()));
    const space = new Space(measure.used + 64 * KiB); // the file's first growth, no more
    const root = createOverlay(image(), new MemTree(2n, space).createRoot());
    setup(root);
    const room = space.limit - space.used;
    write(root.createFile('p'.repeat(Math.max(1, (room - 160 - 64) / 2 - 8))), '');
    expectFsError(() => root.rename('b', root, 'a-much-longer-name-than-is-left'), 'ENOSPC');
    expect(text(root.lookup('b'))).toBe('mine b');
    expect(text(root.lookup('a'))).toBe('image a');
    expect(space.used).toBeLessThanOrEqual(space.limit);
  });

  it('renaming an image file: moved, or where it was', () => {
    atEveryTake(
      () => {},
      (root) => root.rename('a', root, 'c'),
      (root, done) => {
        expect(text(root.lookup(done ? 'c' : 'a'))).toBe('image a');
        expect(root.lookup(done ? 'a' : 'c')).toBeUndefined();
      },
    );
  });

  it('renaming an image directory with a file deleted in it: moved without the file, or where it was', () => {
    atEveryTake(
      (root) => (root.lookup('d') as FsDir).unlink('y'),
      (root) => root.rename('d', root, 'e'),
      (root, done) => {
        const names = (d: FsNode | undefined) => [...(d as FsDir).entries()].map(([n]) => n).sort();
        expect(root.lookup(done ? 'd' : 'e')).toBeUndefined();
        expect(names(root.lookup(done ? 'e' : 'd'))).toEqual(['x']);
      },
    );
  });

  it('removing an image directory emptied: gone, or there and empty', () => {
    atEveryTake(
      (root) => {
        const d = root.lookup('d') as FsDir;
        d.unlink('x');
        d.unlink('y');
      },
      (root) => root.rmdir('d'),
      (root, done) => {
        const d = root.lookup('d') as FsDir | undefined;
        if (done) expect(d).toBeUndefined();
        else expect([...d!.entries()]).toEqual([]);
      },
    );
  });
});
