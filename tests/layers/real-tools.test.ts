// Layers built by real tools, unpacked by berth and compared file by file (kind, mode, content,
// symlink target) with what the tools themselves extract on disk: GNU tar (--format=pax and
// --format=gnu) for single layers, Debian's umoci for images of several layers with changes,
// deletions, a deleted directory and an opaque directory. Skipped where a tool is missing.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, linkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../runtime/core/index.ts';
import { MediaType, sha256 } from '../../runtime/core/index.ts';
import { berthTree, walkDisk, walkTree } from '../suites/layer-trees.ts';

const has = (tool: string) => {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const HAVE_TAR = has('tar') && execFileSync('tar', ['--version']).toString().includes('GNU tar');
const HAVE_UMOCI = has('umoci');

const work = mkdtempSync(join(tmpdir(), 'berth-real-layers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = (what: string) => {
  const d = join(work, `${what}-${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const run = (cmd: string, args: string[], cwd?: string) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** A directory with what tar formats differ on: long names and links, hardlinks, modes, UTF-8. */
function makeSource(dir: string): void {
  const long = join(dir, 'd'.repeat(120), 'e'.repeat(90));
  mkdirSync(long, { recursive: true });
  writeFileSync(join(long, `${'f'.repeat(150)}.txt`), 'deep\n');
  writeFileSync(join(dir, 'plain.txt'), 'hello\n');
  writeFileSync(
    join(dir, 'big.bin'),
    new Uint8Array(300_000).map((_, i) => (i * 31) % 256),
  );
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'héllo wörld ✓'), 'utf-8 name\n');
  writeFileSync(join(dir, 'secret'), 'x');
  chmodSync(join(dir, 'secret'), 0o600);
  writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
  chmodSync(join(dir, 'tool'), 0o4755);
  linkSync(join(dir, 'plain.txt'), join(dir, 'hard.txt'));
  symlinkSync('plain.txt', join(dir, 'rel-link'));
  symlinkSync(`/${'t'.repeat(150)}/target`, join(dir, 'long-link'));
  symlinkSync('/etc/passwd', join(dir, 'abs-link'));
  mkdirSync(join(dir, 'empty-dir'));
  mkdirSync(join(dir, 'sticky'));
  chmodSync(join(dir, 'sticky'), 0o1777);
}

describe.skipIf(!HAVE_TAR)('GNU tar layers', () => {
  for (const format of ['pax', 'gnu'] as const) {
    it(`unpacks a --format=${format} layer to exactly what GNU tar extracts`, async () => {
      const src = fresh('src');
      makeSource(src);
      const tarPath = join(fresh('tar'), 'layer.tar');
      run('tar', [`--format=${format}`, '-cf', tarPath, '-C', src, '.']);
      const out = fresh('out');
      run('tar', ['-xpf', tarPath, '-C', out, '--no-same-owner']);
      const tar = new Uint8Array(readFileSync(tarPath));
      run('gzip', ['-k', '-9', tarPath]);
      const gz = new Uint8Array(readFileSync(`${tarPath}.gz`));
      const diffId = await sha256(tar);
      const expected = walkDisk(out);
      expect(expected.size).toBeGreaterThan(10);
      expect(walkTree(await berthTree([{ blob: tar, mediaType: MediaType.OciLayer, diffId }]))).toEqual(expected);
      expect(walkTree(await berthTree([{ blob: gz, mediaType: MediaType.OciLayerGzip, diffId }]))).toEqual(expected);
      if (has('zstd')) {
        run('zstd', ['-q', '-k', '-19', tarPath]);
        const zst = new Uint8Array(readFileSync(`${tarPath}.zst`));
        expect(walkTree(await berthTree([{ blob: zst, mediaType: MediaType.OciLayerZstd, diffId }]))).toEqual(expected);
      }
    });
  }
});

interface Layout {
  layers: { blob: Uint8Array; mediaType: string; diffId: Digest }[];
}

function readLayout(dir: string, tag: string): Layout {
  const blob = (d: string) => new Uint8Array(readFileSync(join(dir, 'blobs', d.replace(':', '/'))));
  const json = (d: string) => JSON.parse(new TextDecoder().decode(blob(d)));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const desc = index.manifests.find(
    (m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === tag,
  );
  const manifest = json(desc.digest);
  const config = json(manifest.config.digest);
  return {
    layers: manifest.layers.map((l: { digest: string; mediaType: string }, i: number) => ({
      blob: blob(l.digest),
      mediaType: l.mediaType,
      diffId: config.rootfs.diff_ids[i],
    })),
  };
}

describe.skipIf(!HAVE_UMOCI || !HAVE_TAR)('umoci images of several layers', () => {
  it('matches `umoci unpack` after adds, changes, deletions, a deleted directory and an opaque directory', async () => {
    const dir = fresh('umoci');
    const img = join(dir, 'img');
    const image = `${img}:t`;
    run('umoci', ['init', '--layout', img]);
    run('umoci', ['new', '--image', image]);

    // Layer 1: a tree made with the variety above.
    const b1 = join(dir, 'b1');
    run('umoci', ['unpack', '--rootless', '--image', image, b1]);
    makeSource(join(b1, 'rootfs'));
    mkdirSync(join(b1, 'rootfs', 'gone', 'sub'), { recursive: true });
    writeFileSync(join(b1, 'rootfs', 'gone', 'sub', 'f'), 'bye');
    mkdirSync(join(b1, 'rootfs', 'keep'));
    writeFileSync(join(b1, 'rootfs', 'keep', 'old1'), 'old');
    writeFileSync(join(b1, 'rootfs', 'keep', 'old2'), 'old');
    run('umoci', ['repack', '--image', image, b1]);

    // Layer 2: modify, delete a file, delete a directory, change a mode, replace a file by a dir.
    const b2 = join(dir, 'b2');
    run('umoci', ['unpack', '--rootless', '--image', image, b2]);
    const r2 = join(b2, 'rootfs');
    writeFileSync(join(r2, 'plain.txt'), 'changed\n');
    rmSync(join(r2, 'secret'));
    rmSync(join(r2, 'gone'), { recursive: true });
    chmodSync(join(r2, 'tool'), 0o700);
    rmSync(join(r2, 'empty'));
    mkdirSync(join(r2, 'empty'));
    writeFileSync(join(r2, 'empty', 'now-a-dir'), 'd');
    rmSync(join(r2, 'rel-link'));
    symlinkSync('big.bin', join(r2, 'rel-link'));
    run('umoci', ['repack', '--image', image, b2]);

    // Layer 3, written by GNU tar and added verbatim: make `keep` opaque and put one file back in
    // it; whiteout a lower file by hand.
    const l3 = fresh('l3');
    mkdirSync(join(l3, 'keep'));
    writeFileSync(join(l3, 'keep', '.wh..wh..opq'), '');
    writeFileSync(join(l3, 'keep', 'new'), 'new');
    writeFileSync(join(l3, '.wh.big.bin'), '');
    const l3tar = join(dir, 'l3.tar');
    run('tar', ['--format=pax', '-cf', l3tar, '-C', l3, 'keep', '.wh.big.bin']);
    run('umoci', ['raw', 'add-layer', '--image', image, l3tar]);

    const out = join(dir, 'out');
    run('umoci', ['unpack', '--rootless', '--image', image, out]);
    const expected = walkDisk(join(out, 'rootfs'));
    // The oracle itself shows the changes.
    expect(expected.has('secret')).toBe(false);
    expect(expected.has('gone')).toBe(false);
    expect(expected.has('big.bin')).toBe(false);
    expect(expected.has('keep/old1')).toBe(false);
    expect(expected.get('keep/new')).toMatch(/^file /);

    const layout = readLayout(img, 't');
    expect(layout.layers.length).toBe(3);
    expect(walkTree(await berthTree(layout.layers))).toEqual(expected);
  });
});
