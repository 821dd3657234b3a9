// The root filesystem of a run: the image under a writable layer, with mounts at their paths.
import { describe, expect, it } from 'vitest';
import type { FsDir } from '../core/index.ts';
import { MemTree, Space } from '../vfs/index.ts';
import { assembleRootfs } from './image-rootfs.ts';

describe('assembleRootfs', () => {
  it("makes a mount point's missing parents in the writable layer, as docker does: they take writes, counted", () => {
    const lower = new MemTree(9n).createRoot();
    const volume = new MemTree(3n).createRoot();
    const space = new Space(2 ** 20);
    const root = assembleRootfs(lower, [{ path: '/srv/data', dir: volume }], space);
    const before = space.used;
    const srv = root.lookup('srv') as FsDir;
    expect(srv.kind).toBe('dir');
    srv.createFile('app.pid').write(0, new TextEncoder().encode('1'));
    srv.createDir('cache');
    expect(space.used).toBeGreaterThan(before);
    (srv.lookup('data') as FsDir).createFile('in-volume');
    expect(volume.lookup('in-volume')).toBeDefined();
    expect(lower.lookup('srv')).toBeUndefined();
  });
});
