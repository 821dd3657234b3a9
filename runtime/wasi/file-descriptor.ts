// An open regular file: the node and this fd's own position.
import type { FsFile } from '../core/index.ts';
import { Filetype } from './constants.ts';
import { Descriptor } from './descriptor.ts';

export class FileDescriptor extends Descriptor {
  readonly kind = 'file' as const;
  readonly filetype = Filetype.REGULAR_FILE;
  position = 0;
  constructor(
    readonly file: FsFile,
    rightsBase: number,
    rightsInheriting: number,
    readOnly: boolean,
  ) {
    super(rightsBase, rightsInheriting, readOnly);
  }
}
