// An open directory. `parent` is the directory it was reached from (itself for a preopen), used
// only for the d_ino of '..' in fd_readdir; paths never walk above a directory fd.
import type { FsDir, FsNode } from '../core/index.ts';
import { Filetype } from './constants.ts';
import { Descriptor } from './descriptor.ts';

export class DirDescriptor extends Descriptor {
  readonly kind = 'dir' as const;
  readonly filetype = Filetype.DIRECTORY;
  /** Entries captured when a listing starts at cookie 0, so later cookies index the same list. */
  listing: [string, FsNode][] | undefined;
  constructor(
    readonly dir: FsDir,
    readonly parent: FsDir,
    /** The guest path of a preopen; undefined for directories opened later. */
    readonly preopenPath: string | undefined,
    rightsBase: number,
    rightsInheriting: number,
    readOnly: boolean,
    /** The preopen directory absolute symlinks resolve from; undefined: they are refused. */
    readonly root: FsDir | undefined = undefined,
  ) {
    super(rightsBase, rightsInheriting, readOnly);
  }
}
