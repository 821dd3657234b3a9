// The index of one layer: every entry of its (uncompressed) tar, and where a file's bytes start.
// A contract in core because layers writes it, images stores it and vfs builds trees from it.
// Words: a "whiteout" entry hides `path` in the layers below; an "opaque" entry hides everything
// the layers below put inside the directory `path` (OCI image spec, "Whiteouts").

export interface LayerEntry {
  /** Normalised and relative: no leading '/', no '.' or '..' components, no trailing '/'; '' only for an opaque marker of the root. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'whiteout' | 'opaque';
  mode: number;
  uid: number;
  gid: number;
  /** Milliseconds since the epoch (fractions kept from pax). */
  mtime: number;
  /** Data size for files, 0 otherwise. */
  size: number;
  /** Byte offset of the file's data inside the uncompressed tar. */
  offset: number;
  /** Symlink target (as stored), or hardlink target path (normalised). */
  linkname?: string;
}

export interface LayerIndex {
  entries: LayerEntry[];
  /** Length of the uncompressed tar. */
  size: number;
}

/** Synchronous reads of one uncompressed layer blob. Returns the count read (0 at the end). */
export interface ByteSource {
  read(position: number, into: Uint8Array): number;
}
