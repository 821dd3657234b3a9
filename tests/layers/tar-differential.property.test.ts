// Differential property against GNU tar (fast-check): for generated trees on disk (files of any
// size, long and UTF-8 names, modes, symlinks, hardlinks, nested and empty directories) archived by
// GNU tar in pax, gnu and ustar formats, and for generated archives written by berth's writeTar
// (parents implied, entries in any order, a path written twice), berth's unpacked layer tree equals
// what GNU tar itself extracts, kind, mode, content and link target. Skipped without GNU tar.
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect } from 'vitest';
import { MediaType, sha256 } from '../../runtime/core/index.ts';
import { writeTar, type TarWriteEntry } from '../../runtime/layers/write-tar.ts';
import { berthTree, walkDisk, walkTree } from '../suites/layer-trees.ts';

const GNU_TAR = (() => {
  try {
    return execFileSync('tar', ['--version']).toString().includes('GNU tar');
  } catch {
    return false;
  }
})();

const work = mkdtempSync(join(tmpdir(), 'berth-tar-diff-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(work, String(n++));
  mkdirSync(d, { recursive: true });
  return d;
};

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9_-]{1,12}$/),
  fc.stringMatching(/^[a-zé✓ ]{1,6}$/).filter((s) => s.trim() === s && s.length > 0),
  fc.integer({ min: 100, max: 180 }).map((k) => 'n'.repeat(k)),
);
const relPath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
const mode = fc.constantFrom(0o644, 0o600, 0o755, 0o700, 0o4755, 0o444);
const data = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.integer({ min: 0, max: 200_000 }).map((k) => new Uint8Array(k).map((_, i) => (i * 7) % 251)),
);

type Node =
  | { path: string; kind: 'file'; mode: number; data: Uint8Array }
  | { path: string; kind: 'dir'; mode: number }
  | { path: string; kind: 'symlink'; target: string }
  | { path: string; kind: 'hardlink'; to: number };
const node: fc.Arbitrary<Node> = fc.oneof(
  fc.record({ path: relPath, kind: fc.constant('file' as const), mode, data }),
  fc.record({ path: relPath, kind: fc.constant('dir' as const), mode: fc.constantFrom(0o755, 0o700, 0o775) }),
  fc.record({
    path: relPath,
    kind: fc.constant('symlink' as const),
    target: fc.oneof(
      relPath,
      relPath.map((p) => `/${p}`),
      fc.constant('../x'),
    ),
  }),
  fc.record({ path: relPath, kind: fc.constant('hardlink' as const), to: fc.nat() }),
);

/** Writes `nodes` under `root`, skipping ones whose place is taken or whose parent is not a directory. */
function materialize(root: string, nodes: Node[]): void {
  const made = new Map<string, Node>();
  const files: string[] = [];
  for (const nd of nodes) {
    const parts = nd.path.split('/');
    if ([...made.keys()].some((p) => p === nd.path || (nd.path.startsWith(`${p}/`) && made.get(p)!.kind !== 'dir')))
      continue;
    if ([...made.keys()].some((p) => p.startsWith(`${nd.path}/`))) continue;
    const abs = join(root, ...parts);
    mkdirSync(dirname(abs), { recursive: true });
    for (let i = 1; i < parts.length; i++)
      made.set(parts.slice(0, i).join('/'), { path: '', kind: 'dir', mode: 0o755 });
    if (nd.kind === 'file') {
      writeFileSync(abs, nd.data);
      chmodSync(abs, nd.mode);
      files.push(abs);
    } else if (nd.kind === 'dir') mkdirSync(abs, { recursive: true });
    else if (nd.kind === 'symlink') symlinkSync(nd.target, abs);
    else if (files.length) linkSync(files[nd.to % files.length]!, abs);
    else continue;
    made.set(nd.path, nd);
  }
  // Directory modes last (a 0o500 parent would refuse its children).
  for (const nd of nodes) if (nd.kind === 'dir' && made.get(nd.path) === nd) chmodSync(join(root, nd.path), nd.mode);
}

async function compare(tar: Uint8Array) {
  const out = fresh();
  execFileSync('tar', ['-xf', '-', '-C', out, '--no-same-owner', '--same-permissions'], {
    input: tar,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const tree = await berthTree([{ blob: tar, mediaType: MediaType.OciLayer, diffId: await sha256(tar) }]);
  expect(walkTree(tree)).toEqual(walkDisk(out));
}

describe.skipIf(!GNU_TAR)('berth unpacks as GNU tar extracts', () => {
  test.prop([fc.array(node, { minLength: 1, maxLength: 10 }), fc.constantFrom('pax', 'gnu', 'ustar')], { numRuns: 40 })(
    'trees on disk archived by GNU tar',
    async (nodes, format) => {
      const src = fresh();
      materialize(src, nodes);
      let tar: Uint8Array;
      try {
        tar = execFileSync('tar', ['-cf', '-', `--format=${format}`, '--sort=name', '-C', src, '.'], {
          stdio: ['ignore', 'pipe', 'pipe'],
          maxBuffer: 1 << 28,
        });
      } catch (e) {
        // ustar cannot hold long names: GNU tar says so, and that case is not berth's.
        if (format === 'ustar') return;
        throw e;
      }
      await compare(new Uint8Array(tar));
    },
  );

  const entry: fc.Arbitrary<TarWriteEntry> = fc.oneof(
    fc.record({ path: relPath, type: fc.constant('file' as const), mode, data }),
    fc.record({ path: relPath, type: fc.constant('dir' as const), mode: fc.constantFrom(0o755, 0o700) }),
    fc.record({ path: relPath, type: fc.constant('symlink' as const), linkname: relPath }),
  );
  test.prop([fc.array(entry, { minLength: 1, maxLength: 10 })], { numRuns: 60 })(
    'archives written by writeTar: parents implied, any order, paths written twice',
    async (entries) => {
      // A path below a non-directory entry is an error for both tools in different words; keep each
      // entry's parents free of files and links.
      const kept: TarWriteEntry[] = [];
      for (const e of entries) {
        const clash = kept.some(
          (k) =>
            (k.type !== 'dir' && e.path.startsWith(`${k.path}/`)) ||
            (e.type !== 'dir' && k.path.startsWith(`${e.path}/`)),
        );
        if (!clash) kept.push(e);
      }
      await compare(writeTar(kept));
    },
  );
});
