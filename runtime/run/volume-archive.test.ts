// A volume imported from a tar (`berth volume import`, the page's volumes view) holds at most its
// cap of file bytes, hard links counted as the copies a volume makes of them.
import { describe, expect, it } from 'vitest';
import { streamOfBytes, writeTar } from '../layers/index.ts';
import { volumeFromTar } from './volume-archive.ts';

/** writeTar's symlinks made hard links (typeflag '1', the checksum made again). */
function hardlinked(tar: Uint8Array): Uint8Array {
  const out = new Uint8Array(tar);
  for (let at = 0; at + 512 <= out.length; at += 512) {
    if (out[at + 156] !== 0x32 || out[at + 257] !== 0x75) continue; // '2', "ustar"
    out[at + 156] = 0x31;
    out.fill(0x20, at + 148, at + 156);
    let sum = 0;
    for (let i = at; i < at + 512; i++) sum += out[i];
    out.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), at + 148);
  }
  return out;
}

describe('volumeFromTar', () => {
  it('counts each hard link as a copy against the cap (2,000 links to 1 MiB were a 2 GB volume)', async () => {
    const tar = hardlinked(
      writeTar([
        { path: 'big', type: 'file', data: new Uint8Array(1 << 20) },
        ...Array.from({ length: 20 }, (_, i) => ({ path: `l${i}`, type: 'symlink' as const, linkname: 'big' })),
      ]),
    );
    await expect(volumeFromTar(streamOfBytes(tar), { maxBytes: 8 << 20 })).rejects.toMatchObject({
      code: 'resource-exhausted',
    });
    const fits = await volumeFromTar(streamOfBytes(tar), { maxBytes: 32 << 20 });
    expect(fits.entries.filter((e) => e.kind === 'file')).toHaveLength(21);
  });
});
