// Stored images: records in the `images` table, blobs in the content store, layer indexes in the
// `layer-indexes` table keyed by diff_id. A layer index is stored packed (one Uint8Array, see
// vfs/packed-index.ts) so that opening it per request is one copy, not 20 000 objects to clone;
// records written before that hold a plain LayerIndex and are still read.
//
// An image is named by its reference (the record's key). When a reference moves to another image
// (a pull or load of a moved tag) while a service is pinned to the old digest, the old record is
// kept under its digest as key (a pinned record), so `get(digest)` still finds it and GC keeps its
// blobs (gc.ts); `list()` shows named images only. A reference is never a digest (ingest refuses
// one), so the two kinds of key cannot meet.
import { RuntimeError, type Digest } from '../core/index.ts';
import { RecordTable, type ContentStore, type RecordStore, type RecordStoreFactory } from '../content/index.ts';
import { decodeLayerIndex, encodeLayerIndex } from '../vfs/index.ts';
import type { ImageRecord } from './image-record.ts';
import type { Lease } from './lease.ts';
import type { LayerIndex } from '../core/index.ts';

/**
 * A record of the layer-indexes table: under a diff_id, the layer's index, packed (what unpackLayer
 * writes) or plain (from an older store); under a compressed layer's digest, its gzip seek index
 * (a store that does not keep uncompressed tars reads the tar's bytes through it).
 */
export type StoredLayerIndex = PackedLayerIndexRecord | LayerIndex | SeekIndexRecord;
export interface PackedLayerIndexRecord {
  /** encodeLayerIndex of the index. */
  packed: Uint8Array;
  /** Length of the uncompressed tar. */
  size: number;
}

/** Under a gzip layer's (compressed) digest: how to read its tar from the compressed blob. */
export interface SeekIndexRecord {
  /** encodeSeekIndex of the layer's checkpoints (runtime/layers/gzip-seek.ts). */
  seek: Uint8Array;
  /** The tar it inflates to. */
  diffId: Digest;
}

/** Where a layer's tar bytes are read: the tar itself, or the gzip blob through its seek index. */
export interface LayerBytes {
  blob: Blob;
  /** encodeSeekIndex bytes when `blob` is the compressed layer. */
  seek?: Uint8Array;
  /** With `seek`: the compressed layer's digest (what the seek index's spans are spans of). */
  digest?: Digest;
}

export function packLayerIndex(index: LayerIndex): PackedLayerIndexRecord {
  return { packed: encodeLayerIndex(index), size: index.size };
}

/** A place that can run inflateAndIndex (unpack-layer.ts) for a store: the page's is a dedicated worker. */
export type GzipUnpacker = (
  compressed: ReadableStream<Uint8Array>,
  job: { diffId: Digest; maxSize: number },
) => Promise<{ index: LayerIndex; seek: Uint8Array }>;

export interface ImageStoreDeps {
  content: ContentStore;
  records: RecordStoreFactory;
  /** Where gzip layers are inflated and indexed when the tar is not kept (default: in this thread). */
  gzipUnpacker?: GzipUnpacker;
}

/** The part of a service record (serve/service-record.ts) the image store reads: which image it runs. */
export interface ServicePin {
  name: string;
  /** Manifest digest the service is pinned to. */
  imageDigest: string;
}

/** Whether a key of the images table is a digest (a pinned record), not a reference. */
export function isDigestKey(key: string): boolean {
  return key.startsWith('sha256:');
}

export class ImageStore {
  readonly content: ContentStore;
  readonly images: RecordStore<ImageRecord>;
  readonly layerIndexes: RecordStore<StoredLayerIndex>;
  readonly leases: RecordStore<Lease>;
  /** The services table, read for the images services are pinned to (GC roots, removal checks). */
  readonly services: RecordStore<ServicePin>;
  readonly gzipUnpacker?: GzipUnpacker;
  constructor(deps: ImageStoreDeps) {
    this.gzipUnpacker = deps.gzipUnpacker;
    this.leases = deps.records.table<Lease>(RecordTable.Leases);
    this.content = deps.content;
    this.images = deps.records.table<ImageRecord>(RecordTable.Images);
    this.layerIndexes = deps.records.table<StoredLayerIndex>(RecordTable.LayerIndexes);
    this.services = deps.records.table<ServicePin>(RecordTable.Services);
  }

  /** The named images (pinned records aside). */
  async list(): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    for (const ref of await this.images.keys()) {
      if (isDigestKey(ref)) continue;
      const r = await this.images.get(ref);
      if (r) out.push(r);
    }
    return out;
  }

  /** Images kept under their digest because a service was pinned to them when their reference moved. */
  async pinned(): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    for (const key of await this.images.keys('sha256:')) {
      const r = await this.images.get(key);
      if (r?.digest === key) out.push(r);
    }
    return out;
  }

  /** Every service record's name and pinned digest. */
  async servicePins(): Promise<ServicePin[]> {
    const out: ServicePin[] = [];
    for (const key of await this.services.keys()) {
      const s = await this.services.get(key);
      if (s && typeof s.imageDigest === 'string') out.push(s);
    }
    return out;
  }

  /** The names of the services pinned to `digest`. */
  async servicesUsing(digest: string): Promise<string[]> {
    return (await this.servicePins()).filter((s) => s.imageDigest === digest).map((s) => s.name);
  }

  /**
   * Keeps `image` reachable by its digest if a service is pinned to it: called before its reference
   * is given to another image (so at no moment does a GC see the digest unreachable).
   */
  async pinIfUsed(image: ImageRecord): Promise<boolean> {
    if ((await this.servicesUsing(image.digest)).length === 0) return false;
    if ((await this.images.get(image.digest))?.digest !== image.digest) await this.images.put(image.digest, image);
    return true;
  }

  /** The image named `ref`, or the one whose manifest digest is `ref` (a named one, else a pinned one). */
  async get(ref: string): Promise<ImageRecord | undefined> {
    const direct = await this.images.get(ref);
    if (!isDigestKey(ref)) return direct;
    if (direct?.digest === ref) return direct;
    return (await this.list()).find((r) => r.digest === ref);
  }

  /** The image `ref` names if it still has `digest`, else any image with `digest` (no scan when the ref matches). */
  async byDigest(digest: string, ref?: string): Promise<ImageRecord | undefined> {
    if (ref) {
      const named = await this.images.get(ref);
      if (named?.digest === digest) return named;
    }
    return this.get(digest);
  }

  async require(ref: string): Promise<ImageRecord> {
    const r = await this.get(ref);
    if (!r) throw new RuntimeError('not-found', `image ${ref} is not in the store; pull or load it first`);
    return r;
  }

  /** The layer's index, every entry decoded (O(entries): for tools and tests, not per request). */
  async layerIndex(diffId: Digest): Promise<LayerIndex> {
    const stored = await this.storedLayerIndex(diffId);
    return 'packed' in stored ? decodeLayerIndex(stored.packed) : stored;
  }

  /** The layer's index in packed form, for buildLayerTree (one copy when it was stored packed). */
  async packedLayerIndex(diffId: Digest): Promise<Uint8Array> {
    const stored = await this.storedLayerIndex(diffId);
    return 'packed' in stored ? stored.packed : encodeLayerIndex(stored);
  }

  private async storedLayerIndex(diffId: Digest): Promise<PackedLayerIndexRecord | LayerIndex> {
    const index = await this.layerIndexes.get(diffId);
    if (!index)
      throw new RuntimeError(
        'data-loss',
        `the index of layer ${diffId} is missing from the store; pull the image again`,
      );
    if (
      'seek' in index ||
      ('packed' in index ? !(index.packed instanceof Uint8Array) : !Array.isArray(index.entries))
    ) {
      throw new RuntimeError(
        'data-loss',
        `the index of layer ${diffId} in the store is not a layer index; pull the image again`,
      );
    }
    return index;
  }

  /** The layer's gzip seek index, if one is stored for its compressed digest. */
  async seekIndex(layer: { digest: Digest; diffId: Digest }): Promise<Uint8Array | undefined> {
    if (layer.digest === layer.diffId) return undefined;
    const r = await this.layerIndexes.get(layer.digest);
    return r && 'seek' in r && r.seek instanceof Uint8Array && r.diffId === layer.diffId ? r.seek : undefined;
  }

  /**
   * Where the layer's tar bytes are read, as lazy Blobs: the uncompressed tar where the store keeps
   * it, else the compressed blob with its seek index.
   */
  async layerBytes(layer: { digest: Digest; diffId: Digest }): Promise<LayerBytes> {
    const tar = await this.content.get(layer.diffId);
    if (tar) return { blob: tar };
    const seek = await this.seekIndex(layer);
    const blob = seek && (await this.content.get(layer.digest));
    if (!blob)
      throw new RuntimeError(
        'data-loss',
        `the unpacked layer ${layer.diffId} is missing from the store; pull the image again`,
      );
    return { blob, seek, digest: layer.digest };
  }
}
