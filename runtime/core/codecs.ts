// How an environment hashes and (de)compresses byte streams. Every environment provides the same
// small interface: Node's comes from runtime/content/node-codecs.ts (node:crypto's incremental
// SHA-256, node:zlib), a Node-only file that the content store of the Node fs backend hands out
// (FsContentStore.codecs). Everywhere else (page, worker, Service Worker, the memory and IndexedDB
// stores) it is `webCodecs`: SHA-256 through WebCrypto over the whole blob at the end (WebCrypto has
// no incremental digest; a JS one measured ~10x slower), and gzip left to the callers' web defaults
// (DecompressionStream or pako in runtime/layers, pako for packing).
import type { Digest } from './digest.ts';
import { toHex } from './digest.ts';

/** An incremental SHA-256: feed it chunks in order, then ask for the digest once. */
export interface Sha256Hash {
  update(chunk: Uint8Array): void;
  digest(): Promise<Digest>;
}

export interface StreamCodecs {
  /** A fresh incremental SHA-256. */
  sha256(): Sha256Hash;
  /**
   * Gunzip as a stream. It must read its input only while its output is read (so a gzip bomb is
   * stopped by a size cap downstream after a bounded amount of work), pass errors of its input
   * through unchanged, and fail with RuntimeError 'data-loss' on a corrupt or truncated stream.
   * Undefined: the web default (DecompressionStream, else pako).
   */
  gunzip?(input: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
  /** Gzip at `level` (0-9), deterministic in this environment, with mtime 0 and OS 255 in the header. Undefined: pako. */
  gzip?(input: ReadableStream<Uint8Array>, level: number): ReadableStream<Uint8Array>;
}

/** SHA-256 through WebCrypto: the chunks are kept and hashed whole when the digest is asked for. */
export function collectingSha256(): Sha256Hash {
  let chunks: Uint8Array[] = [];
  let total = 0;
  return {
    update(chunk) {
      chunks.push(chunk);
      total += chunk.length;
    },
    async digest() {
      const all = chunks.length === 1 ? chunks[0] : new Uint8Array(total);
      if (chunks.length !== 1) {
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.length;
        }
      }
      chunks = [];
      const hash = await crypto.subtle.digest('SHA-256', all as Uint8Array<ArrayBuffer>);
      return `sha256:${toHex(new Uint8Array(hash))}`;
    },
  };
}

/** The codecs of browsers (and of Node code that uses the memory store): WebCrypto, web gzip defaults. */
export const webCodecs: StreamCodecs = { sha256: collectingSha256 };
