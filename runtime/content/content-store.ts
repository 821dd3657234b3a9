// The content-addressed blob store. Roles as in containerd: a Provider reads, an Ingester writes,
// a Manager lists and deletes; a ContentStore is all three. A blob being written is invisible until
// its bytes hash to the expected digest and match the expected size; writing a blob that already
// exists is success and writes nothing. A store also says how its environment hashes and
// (de)compresses streams (`codecs`): Node's fs store gives node:crypto and node:zlib.
import type { Digest, StreamCodecs } from '../core/index.ts';

export interface BlobInfo {
  digest: Digest;
  size: number;
  /** ms since epoch. */
  created: number;
}

export interface WriteProgress {
  done: number;
  total?: number;
}

export interface PutOptions {
  /** Called as bytes arrive (streams only). */
  onProgress?: (p: WriteProgress) => void;
  signal?: AbortSignal;
  /**
   * Awaited once the bytes are verified, before the blob becomes visible; if it throws, nothing is
   * committed and put throws that. (A layer's uncompressed tar, written while the compressed blob
   * it comes from is still arriving, is committed only after that blob is verified.)
   */
  beforeCommit?: () => Promise<void>;
  /**
   * Called when the blob was stored already and `data` was left unread, so nothing checked it: a
   * caller that also read `data` itself (a layer's indexer) must not trust what it read.
   */
  alreadyStored?: () => void;
}

export type BlobData = Uint8Array | Blob | ReadableStream<Uint8Array>;

export interface ContentProvider {
  /** The blob as a lazy handle (bytes read only when asked), or undefined. */
  get(digest: Digest): Promise<Blob | undefined>;
  info(digest: Digest): Promise<BlobInfo | undefined>;
}

export interface ContentIngester {
  /** Verifies and commits; throws RuntimeError('data-loss') on a digest or size mismatch, leaving nothing. */
  put(expected: { digest: Digest; size?: number }, data: BlobData, options?: PutOptions): Promise<BlobInfo>;
}

export interface ContentManager {
  list(): Promise<BlobInfo[]>;
  /** True if it existed. */
  delete(digest: Digest): Promise<boolean>;
}

export interface ContentStore extends ContentProvider, ContentIngester, ContentManager {
  /** How this environment hashes and (de)compresses streams; undefined means core's `webCodecs`. */
  readonly codecs?: StreamCodecs;
  /**
   * Keep each gzip layer's uncompressed tar as a blob of its own (the Node fs store: disk is cheap
   * there and a tar file is read synchronously at native speed). Otherwise (browsers' IndexedDB,
   * where quotas and eviction bite) only the compressed blob is kept, with a seek index to read the
   * tar's bytes from it (runtime/layers/gzip-seek.ts).
   */
  readonly keepsLayerTars?: boolean;
}
