// tests/fixtures/wasi/open-files.c on every writable backend against what Linux answers
// (open-files.expected, from gcc): an fd keeps its file through an unlink or rename of the name
// (nlink 0 after unlink), a directory opens for reading only (ISDIR for write access, even with
// O_DIRECTORY), and a symlink may store an absolute target; only following it is refused.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FsDir } from '../core/index.ts';
import { runFixture } from '../../tests/fixtures/wasi/run-fixture.ts';
import { buildLayerTree } from '../vfs/layer-tree.ts';
import { MemTree } from '../vfs/mem-tree.ts';
import { createOverlay } from '../vfs/overlay.ts';
import { withMounts } from '../vfs/with-mounts.ts';

const expected = readFileSync(new URL('../../tests/fixtures/wasi/open-files.expected', import.meta.url), 'utf8').split(
  '\n',
);

const backends: [string, () => FsDir][] = [
  ['the in-memory tree', () => new MemTree().createRoot()],
  ['an overlay over a layer tree', () => createOverlay(buildLayerTree([]), new MemTree().createRoot())],
  ['a mounted volume', () => withMounts(new MemTree(1n).createRoot(), [])],
];

describe('open files and directories (open-files.c)', () => {
  for (const [name, makeRoot] of backends) {
    it(`answers as Linux over ${name}`, () => {
      const refused = runFixture('open-files', { preopens: [{ guestPath: '/', dir: makeRoot() }] });
      expect(refused.stdout.split('\n')).toEqual(
        expected.map((l) => (l === 'follow abs: ENOENT' ? 'follow abs: ENOTCAPABLE' : l)),
      );
      // Resolved from the preopen (a rootfs), the target is simply missing there, as on Linux.
      const root = makeRoot();
      const chroot = runFixture('open-files', { preopens: [{ guestPath: '/', dir: root, absoluteSymlinks: 'root' }] });
      expect(chroot.stdout.split('\n')).toEqual(expected);
      expect(root.lookup('abs')).toMatchObject({ kind: 'symlink', target: '/nonexistent-berth-dir/target' });
    });
  }
});
