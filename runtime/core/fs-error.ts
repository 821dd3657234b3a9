// Filesystem errors named after POSIX errno values. The filesystem (vfs) throws them, the WASI
// broker turns the name into a preview1 errno number at its boundary, and nothing else needs to agree.

export const FsErrorCode = {
  ENOENT: 'ENOENT',
  EEXIST: 'EEXIST',
  ENOTDIR: 'ENOTDIR',
  EISDIR: 'EISDIR',
  ENOTEMPTY: 'ENOTEMPTY',
  EROFS: 'EROFS',
  EINVAL: 'EINVAL',
  ELOOP: 'ELOOP',
  EXDEV: 'EXDEV',
  EBADF: 'EBADF',
  EACCES: 'EACCES',
  EPERM: 'EPERM',
  EFBIG: 'EFBIG',
  ENOSPC: 'ENOSPC',
  ENAMETOOLONG: 'ENAMETOOLONG',
  ENOTCAPABLE: 'ENOTCAPABLE',
  EIO: 'EIO',
  ENOTSUP: 'ENOTSUP',
  EMFILE: 'EMFILE',
} as const;
export type FsErrorCode = (typeof FsErrorCode)[keyof typeof FsErrorCode];

export class FsError extends Error {
  override name = 'FsError';
  constructor(
    readonly code: FsErrorCode,
    message?: string,
  ) {
    super(message ?? code);
  }
}
