// Volumes survive a crash: a run works on its own copy, and only a finished commit replaces the
// stored snapshot. In Node the store directory holds them (FsRecords), replaced by rename; a
// process killed while committing leaves the old snapshot or the new one whole, never a mix.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsRecords } from '../../runtime/content/fs-record-store.ts';
import { MemoryRecords, type RecordStoreFactory } from '../../runtime/content/index.ts';
import type { FsFile } from '../../runtime/core/index.ts';
import { VolumeStore } from '../../runtime/run/volume-store.ts';
import type { MemDir } from '../../runtime/vfs/index.ts';

const work = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const enc = new TextEncoder();
const dec = new TextDecoder();

function put(dir: MemDir, name: string, text: string): void {
  const f = (dir.lookup(name) as FsFile | undefined) ?? dir.createFile(name);
  f.truncate(0);
  f.write(0, enc.encode(text));
}
function get(dir: MemDir, name: string): string | undefined {
  const f = dir.lookup(name) as FsFile | undefined;
  if (!f) return undefined;
  const out = new Uint8Array(Number(f.stat().size));
  f.read(0, out);
  return dec.decode(out);
}

const backends: [string, () => RecordStoreFactory][] = [
  ['memory', () => new MemoryRecords()],
  ['fs', () => new FsRecords(mkdtempSync(join(work, 'store-')))],
];

describe.each(backends)('VolumeStore over %s records', (_, make) => {
  it('keeps the old snapshot when a run dies before its commit', async () => {
    const records = make();
    const volumes = new VolumeStore(records);
    const first = await volumes.open('db');
    put(first, 'hits', '1');
    await volumes.commit('db', first);

    // A run changes its copy, then dies (never commits).
    const run = await volumes.open('db');
    put(run, 'hits', '2');
    put(run, 'half-written', 'x');
    run.unlink('hits');

    const after = await new VolumeStore(records).open('db');
    expect(get(after, 'hits')).toBe('1');
    expect(after.lookup('half-written')).toBeUndefined();
    expect(await volumes.list()).toEqual(['db']);
  });
});

describe('VolumeStore in the Node store directory', () => {
  it('ignores a partial file a crashed commit left behind', async () => {
    const root = mkdtempSync(join(work, 'partial-'));
    const volumes = new VolumeStore(new FsRecords(root));
    const d = await volumes.open('db');
    put(d, 'hits', '7');
    await volumes.commit('db', d);
    const dir = join(root, 'records', 'volumes');
    expect(readdirSync(dir)).toEqual(['db']);
    writeFileSync(join(dir, `db.123.abc.partial`), 'garbage, cut mid-write');
    expect(get(await volumes.open('db'), 'hits')).toBe('7');
    expect(await volumes.list()).toEqual(['db']);
  });

  it('leaves the old or the new snapshot whole when the process is killed while committing', async () => {
    const root = mkdtempSync(join(work, 'kill-'));
    const child = join(work, 'committer.mts');
    const src = (p: string) => JSON.stringify(new URL(p, import.meta.url).pathname);
    // Commits generation 0, says so, then commits ever larger generations until killed.
    writeFileSync(
      child,
      `import { FsRecords } from ${src('../../runtime/content/fs-record-store.ts')};
import { VolumeStore } from ${src('../../runtime/run/volume-store.ts')};
const volumes = new VolumeStore(new FsRecords(process.argv[2]));
for (let gen = 0; ; gen++) {
  const d = await volumes.open('db');
  const old = d.lookup('gen'); if (old) d.unlink('gen'); if (d.lookup('blob')) d.unlink('blob');
  d.createFile('gen').write(0, new TextEncoder().encode(String(gen)));
  d.createFile('blob').write(0, new Uint8Array((4 << 20) + gen).fill(gen % 251));
  await volumes.commit('db', d);
  if (gen === 0) process.stdout.write('committed\\n');
}
`,
    );
    const p = spawn(process.execPath, ['--import', 'tsx', child, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      p.stdout.on('data', (b: Buffer) => b.toString().includes('committed') && resolve());
      p.on('exit', (code) => reject(new Error(`committer exited early (${code})`)));
    });
    // Kill it as soon as a commit is being written (or after a few), whatever it is doing.
    const dir = join(root, 'records', 'volumes');
    for (let i = 0; i < 2000 && !readdirSync(dir).some((n) => n.endsWith('.partial')); i++)
      await new Promise((r) => setTimeout(r, 1));
    p.kill('SIGKILL');
    await new Promise((r) => p.on('exit', r));

    const d = await new VolumeStore(new FsRecords(root)).open('db');
    const gen = Number(get(d, 'gen'));
    expect(Number.isInteger(gen)).toBe(true);
    const blob = d.lookup('blob') as FsFile;
    expect(blob.stat().size).toBe(BigInt((4 << 20) + gen));
    const bytes = new Uint8Array(Number(blob.stat().size));
    blob.read(0, bytes);
    expect(bytes.every((b) => b === gen % 251)).toBe(true);
  });
});
