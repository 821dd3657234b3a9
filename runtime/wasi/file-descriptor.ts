// An open regular file: the file (an open handle where the filesystem gives one, FsFile.open, else
// the node itself) and this fd's own position.
import type { FsFile, FsOpenFile } from '../core/index.ts';
import { Filetype } from './constants.ts';
import { Descriptor } from './descriptor.ts';

export class FileDescriptor extends Descriptor {
  readonly kind = 'file' as const;
  readonly filetype = Filetype.REGULAR_FILE;
  position = 0;
  constructor(
    readonly file: FsFile | FsOpenFile,
    rightsBase: number,
    rightsInheriting: number,
    readOnly: boolean,
  ) {
    super(rightsBase, rightsInheriting, readOnly);
  }
  override close(): void {
    if ('close' in this.file) this.file.close();
  }
}
