// Hostile keys and digests never name a file outside the Node store (tested by attack: the file
// they aim at is left untouched).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsContentStore } from './fs-content-store.ts';
import { fileName, FsRecords } from './fs-record-store.ts';
import { RecordTable } from './record-store.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-fs-paths-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('Node store paths', () => {
  it('refuses a digest that is not sha256 + 64 hex before it becomes a path', async () => {
    const store = new FsContentStore(join(root, 'store'));
    await writeFile(join(root, 'secret'), 'do not read');
    for (const d of ['sha256:../../../secret', 'sha256:../../secret', `sha256:${'A'.repeat(64)}`, 'md5:abc']) {
      await expect(store.get(d as `sha256:${string}`)).rejects.toMatchObject({ code: 'invalid-argument' });
      await expect(store.delete(d as `sha256:${string}`)).rejects.toMatchObject({ code: 'invalid-argument' });
    }
    expect(await readFile(join(root, 'secret'), 'utf8')).toBe('do not read');
  });

  it('keeps every record key inside its table', async () => {
    const records = new FsRecords(root);
    const table = records.table<string>(RecordTable.Images);
    for (const key of ['.', '..', '../x', '.hidden', 'tag.partial', 'a/b', 'localhost/x:1.0']) {
      await table.put(key, key);
      expect(await table.get(key)).toBe(key);
    }
    expect(await table.keys()).toEqual(['.', '..', '../x', '.hidden', 'a/b', 'localhost/x:1.0', 'tag.partial'].sort());
    expect(fileName('localhost/x:1.0')).toBe('localhost%2Fx%3A1.0');
    await expect(table.put('', 'x')).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
