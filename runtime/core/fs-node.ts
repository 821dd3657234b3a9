// The filesystem contract shared by the filesystem (vfs) and the WASI broker (wasi).
// A node is one inode: a file, a directory or a symlink. A directory works one path component
// at a time: `name` never contains '/', and is never '.' or '..' (the broker resolves paths itself,
// walking from a preopen, so no node needs a parent pointer and nothing can walk above a preopen).
// Failures throw FsError with a POSIX name (ENOENT, EEXIST, EROFS, ...). Sizes and offsets are
// numbers (exact to 2^53); times are nanoseconds since the epoch as bigint.

export type FsNodeKind = 'file' | 'dir' | 'symlink';

export interface FsStat {
  /** Device id; nodes of one mounted tree share it. */
  dev: bigint;
  /** Inode number, stable for the node's lifetime within one run. */
  ino: bigint;
  kind: FsNodeKind;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
  /** POSIX permission bits (0o777 and friends); informational, WASI has no modes. */
  mode: number;
}

export interface FsNodeBase {
  readonly kind: FsNodeKind;
  stat(): FsStat;
  /** `null` leaves a time unchanged. EROFS where read-only. */
  setTimes(atim: bigint | null, mtim: bigint | null): void;
}

export interface FsFile extends FsNodeBase {
  readonly kind: 'file';
  /** Reads up to `into.length` bytes at `position`; returns the count (0 at or past the end). */
  read(position: number, into: Uint8Array): number;
  /** Writes all of `data` at `position`, growing the file (holes read as zeros); returns data.length. */
  write(position: number, data: Uint8Array): number;
  /** Sets the size, cutting or zero-extending. */
  truncate(size: number): void;
  /**
   * Opens the file for a descriptor, as open(2) does: the handle keeps reaching this inode after
   * its name is renamed or unlinked (its stat then says nlink 0), until `close()`. `write`: the
   * handle may be written (a host that refuses it answers EACCES at the first write). Optional:
   * where a node is the inode itself (memory), the node serves as its own handle.
   */
  open?(write: boolean): FsOpenFile;
}

/** An open file (FsFile.open): the file's operations on one open inode, until closed. */
export interface FsOpenFile extends FsFile {
  close(): void;
}

export interface FsSymlink extends FsNodeBase {
  readonly kind: 'symlink';
  readonly target: string;
}

export interface FsDir extends FsNodeBase {
  readonly kind: 'dir';
  lookup(name: string): FsNode | undefined;
  /** Entries in a stable order (without '.' and '..'). */
  entries(): Iterable<[string, FsNode]>;
  /** EEXIST if `name` exists. */
  createFile(name: string): FsFile;
  createDir(name: string): FsDir;
  createSymlink(name: string, target: string): FsSymlink;
  /** Hard link to an existing file node (EPERM for directories, EXDEV across trees). */
  link(name: string, node: FsNode): void;
  /** Removes a non-directory entry (EISDIR for a directory, ENOENT if missing). */
  unlink(name: string): void;
  /** Removes an empty directory (ENOTDIR, ENOTEMPTY, ENOENT). */
  rmdir(name: string): void;
  /** POSIX rename(2) semantics between two directories of the same tree (EXDEV otherwise). */
  rename(name: string, toDir: FsDir, toName: string): void;
}

export type FsNode = FsFile | FsDir | FsSymlink;
