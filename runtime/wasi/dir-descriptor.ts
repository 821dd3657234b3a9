// An open directory. `parent` is the directory it was reached from (itself for a preopen), used
// only for the d_ino of '..' in fd_readdir; paths never walk above a directory fd.
import type { FsDir, FsNode } from '../core/index.ts';
import { Filetype } from './constants.ts';
import { Descriptor } from './descriptor.ts';
import { Errno } from './errno.ts';
import { WasiError } from './wasi-error.ts';

/**
 * Entries the listings of one instance's directory fds may hold at once (about 75 bytes each).
 * Each fd kept a copy of its directory's listing: 65,536 fds on a directory of 50,000 entries
 * took the host to its heap's limit in 19 s.
 */
export const LISTED_MAX = 1 << 20;

/** What the listings of one instance's fds (or 0.2 directory-entry streams) hold, counted against LISTED_MAX. */
export class Listings {
  held = 0;
  constructor(readonly max = LISTED_MAX) {}
  /** Counts `n` more entries kept, or throws NOMEM past the budget (counting nothing). */
  take(n: number): void {
    if (this.held + n > this.max)
      throw new WasiError(Errno.NOMEM, `directory listings kept would hold more than ${this.max} entries`);
    this.held += n;
  }
  give(n: number): void {
    this.held -= n;
  }
}

export class DirDescriptor extends Descriptor {
  readonly kind = 'dir' as const;
  readonly filetype = Filetype.DIRECTORY;
  /** Entries captured when a listing starts at cookie 0, so later cookies index the same list. */
  listing: [string, FsNode][] | undefined;
  private counted: Listings | undefined;
  /** Keeps `entries` as this fd's listing, counted in `listings` (NOMEM past LISTED_MAX). */
  keepListing(entries: [string, FsNode][], listings: Listings): void {
    this.close();
    listings.take(entries.length);
    this.listing = entries;
    this.counted = listings;
  }
  close(): void {
    if (this.counted && this.listing) this.counted.give(this.listing.length);
    this.counted = undefined;
    this.listing = undefined;
  }
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
