// A volume as a plain tar and back (`berth volume export|import`, the page's download): what other
// tools read and write. Export lists directories before what they hold. Import reads a tar from
// anywhere as hostile: names are normalised and may not climb out ('..', absolute names are made
// relative), hard links become copies of an earlier file of the same tar, devices and fifos are
// skipped, and the total size and entry count are capped.
import { RuntimeError } from '../core/index.ts';
import { normalizeTarPath, readTar, writeTarParts, type TarWriteEntry } from '../layers/index.ts';
import type { VolumeSnapshot, VolumeSnapshotEntry } from '../vfs/index.ts';

export const VolumeArchiveLimits = {
  /** Bytes of file data a volume import may hold. */
  maxBytes: 1024 * 2 ** 20,
  maxEntries: 200_000,
} as const;

/** The snapshot as tar parts (concatenate or stream them). */
export function volumeToTar(snapshot: VolumeSnapshot): Uint8Array[] {
  const entries: TarWriteEntry[] = snapshot.entries.map((e) => ({
    path: e.path,
    type: e.kind,
    mode: e.mode,
    mtime: Number(BigInt(e.mtim) / 1_000_000n),
    ...(e.kind === 'file' ? { data: e.data ?? new Uint8Array(0) } : {}),
    ...(e.kind === 'symlink' ? { linkname: e.target ?? '' } : {}),
  }));
  return writeTarParts(entries);
}

/** A snapshot from a tar stream (RuntimeError 'invalid-argument' for a hostile name, 'resource-exhausted' past a cap). */
export async function volumeFromTar(
  tar: ReadableStream<Uint8Array>,
  limits: { maxBytes?: number; maxEntries?: number } = {},
): Promise<VolumeSnapshot> {
  const maxBytes = limits.maxBytes ?? VolumeArchiveLimits.maxBytes;
  const maxEntries = limits.maxEntries ?? VolumeArchiveLimits.maxEntries;
  const byPath = new Map<string, VolumeSnapshotEntry>();
  let bytes = 0;
  const ensureParents = (path: string, mtim: string) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      const have = byPath.get(p);
      if (!have) byPath.set(p, { path: p, kind: 'dir', mode: 0o755, mtim });
      else if (have.kind !== 'dir')
        throw new RuntimeError('invalid-argument', `the tar puts ${path} under ${p}, which is not a directory`);
    }
  };
  for await (const e of readTar(tar, { maxSize: maxBytes * 2 + 64 * 2 ** 20 })) {
    if (e.type !== 'file' && e.type !== 'dir' && e.type !== 'symlink' && e.type !== 'hardlink') continue;
    const path = normalizeTarPath(e.path.replace(/^\/+/, ''));
    if (path === '') continue;
    if (byPath.size >= maxEntries)
      throw new RuntimeError('resource-exhausted', `the tar has more than ${maxEntries} entries`);
    const mtim = (BigInt(Math.max(0, Math.round(e.mtime))) * 1_000_000n).toString();
    ensureParents(path, mtim);
    const mode = e.mode & 0o7777;
    if (e.type === 'dir') {
      const have = byPath.get(path);
      if (have && have.kind !== 'dir') byPath.delete(path);
      byPath.set(path, { path, kind: 'dir', mode, mtim });
      continue;
    }
    if (byPath.get(path)?.kind === 'dir')
      throw new RuntimeError('invalid-argument', `the tar replaces the directory ${path} with a ${e.type}`);
    if (e.type === 'symlink') {
      byPath.set(path, { path, kind: 'symlink', mode: 0o777, mtim, target: e.linkname });
      continue;
    }
    let data: Uint8Array;
    if (e.type === 'hardlink') {
      const target = byPath.get(normalizeTarPath(e.linkname.replace(/^\/+/, ''), 'hardlink target'));
      if (target?.kind !== 'file')
        throw new RuntimeError('invalid-argument', `the tar's hardlink ${path} names no earlier file (${e.linkname})`);
      // A volume keeps no hard links: each is a copy, counted as one (2,000 links to 1 MiB made a
      // 2 GB volume from a 2 MB tar).
      data = target.data ?? new Uint8Array(0);
      if (bytes + data.length > maxBytes)
        throw new RuntimeError('resource-exhausted', `the tar holds more than ${maxBytes} bytes of files`);
    } else {
      if (bytes + e.size > maxBytes)
        throw new RuntimeError('resource-exhausted', `the tar holds more than ${maxBytes} bytes of files`);
      data = await e.bytes();
    }
    bytes += data.length;
    byPath.set(path, { path, kind: 'file', mode, mtim, data });
  }
  // Parents before children: sorted by path, a directory comes before what it holds.
  const entries = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries };
}
