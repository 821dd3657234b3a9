// Record tables in a directory (Node): records/<table>/<key>, serialized with v8's structured
// clone (so Uint8Array and bigint survive), replaced atomically by rename.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { RuntimeError } from '../core/index.ts';
import type { RecordStore, RecordStoreFactory, RecordTable } from './record-store.ts';

export class FsRecordStore<T> implements RecordStore<T> {
  private readonly dir: string;
  constructor(root: string, name: RecordTable) {
    this.dir = join(root, 'records', name);
  }
  private path(key: string): string {
    return join(this.dir, fileName(key));
  }
  async get(key: string): Promise<T | undefined> {
    try {
      return deserialize(await readFile(this.path(key))) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  async put(key: string, value: T): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(key)}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    await writeFile(tmp, serialize(value));
    await rename(tmp, this.path(key));
  }
  putSync(key: string, value: T): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.path(key)}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, serialize(value));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path(key));
  }
  async delete(key: string): Promise<boolean> {
    const had = (await this.get(key)) !== undefined;
    await rm(this.path(key), { force: true });
    return had;
  }
  async keys(prefix?: string): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((n) => !n.endsWith('.partial'))
        .map(decodeURIComponent)
        .filter((k) => !prefix || k.startsWith(prefix))
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}

/**
 * A key as one file name inside the table's directory. encodeURIComponent keeps '.', so a key of
 * '.' or '..' (or one ending in '.partial', the suffix of files being written) would name another
 * file: a leading dot and that suffix's dot are escaped too. decodeURIComponent undoes both.
 */
export function fileName(key: string): string {
  if (key === '') throw new RuntimeError('invalid-argument', 'a record key cannot be empty');
  return encodeURIComponent(key)
    .replace(/^\./, '%2E')
    .replace(/\.partial$/, '%2Epartial');
}

export class FsRecords implements RecordStoreFactory {
  constructor(private readonly root: string) {}
  table<T>(name: RecordTable): RecordStore<T> {
    return new FsRecordStore<T>(this.root, name);
  }
}
