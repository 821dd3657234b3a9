// The CLI's store: a directory holding blobs and records (`--store DIR`, else $BERTH_STORE, else
// the user's data directory), and the lock files (`locks/`) that serialize runs of every berth
// process writing the same volume.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { FsContentStore } from '../runtime/content/fs-content-store.ts';
import { FsRecords } from '../runtime/content/fs-record-store.ts';
import { ImageStore } from '../runtime/images/index.ts';
import { fileLocks } from '../runtime/run/file-locks.ts';
import type { LockFn } from '../runtime/run/index.ts';
import type { OptionTable } from './command.ts';

/** `--store DIR`, which every command that reads or writes the store takes. */
export const STORE_OPTION = {
  store: {
    type: 'string',
    value: 'DIR',
    defaultText: '$BERTH_STORE, else $XDG_DATA_HOME/berth or ~/.local/share/berth',
    help: 'the store directory',
  },
} as const satisfies OptionTable;

export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_STORE) return resolve(env.BERTH_STORE);
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'berth');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'berth');
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'berth');
}

export interface CliStore {
  dir: string;
  content: FsContentStore;
  records: FsRecords;
  images: ImageStore;
  /** Volume locks shared by every process using this store: one file per volume in `<store>/locks`. */
  lock: LockFn;
}

export function openStore(dir: string | undefined): CliStore {
  const root = dir ? resolve(dir) : defaultStoreDir();
  const content = new FsContentStore(root);
  const records = new FsRecords(root);
  return {
    dir: root,
    content,
    records,
    images: new ImageStore({ content, records }),
    lock: fileLocks(join(root, 'locks')),
  };
}
