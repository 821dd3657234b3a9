// Reading and writing OCI image layouts (image-layout.md of the OCI image spec): an `oci-layout`
// file, an `index.json`, and `blobs/<alg>/<hex>`. A LayoutReader abstracts where the files live
// (HTTP for seeds, a directory or a tar in Node).
import {
  digestHex,
  MediaType,
  parseDigest,
  RuntimeError,
  type Descriptor,
  type Digest,
  type ImageIndex,
} from '../core/index.ts';

export interface LayoutReader {
  /**
   * The file's bytes; RuntimeError('not-found') if missing. A reader that fetches them (a link's
   * layout over HTTP) reads at most `maxBytes` of it, else RuntimeError('resource-exhausted'): what
   * the caller expects (a descriptor's size, a document's cap), so a host sending without end is
   * stopped as it sends, not after.
   */
  read(path: string, maxBytes?: number): Promise<Uint8Array>;
}

/** What oci-layout and index.json may hold. */
export const MAX_LAYOUT_DOCUMENT_BYTES = 4 * 1024 * 1024;

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** The path of a blob in a layout; RuntimeError 'invalid-argument' for anything but a sha256 digest (no `..` ever reaches a path). */
export function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(parseDigest(digest, 'an OCI layout blob'))}`;
}

const dec = new TextDecoder();

function readJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(dec.decode(bytes));
  } catch (e) {
    throw new RuntimeError('invalid-argument', `${what} of the OCI layout is not JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

export async function readLayoutIndex(reader: LayoutReader): Promise<ImageIndex> {
  const marker = readJson(await reader.read('oci-layout', MAX_LAYOUT_DOCUMENT_BYTES), 'oci-layout') as {
    imageLayoutVersion?: string;
  } | null;
  if (marker?.imageLayoutVersion !== '1.0.0') {
    throw new RuntimeError(
      'invalid-argument',
      `unsupported OCI layout version ${JSON.stringify(marker?.imageLayoutVersion)} (expected 1.0.0)`,
    );
  }
  const index = readJson(await reader.read('index.json', MAX_LAYOUT_DOCUMENT_BYTES), 'index.json') as ImageIndex | null;
  if (
    index?.schemaVersion !== 2 ||
    !Array.isArray(index.manifests) ||
    index.manifests.some((m) => !m || typeof m !== 'object' || Array.isArray(m))
  ) {
    throw new RuntimeError(
      'invalid-argument',
      'index.json of the OCI layout is not an image index (schemaVersion 2 with manifests)',
    );
  }
  return index;
}

/** Files of an OCI layout holding `blobs`, with `refs` naming manifests in index.json. */
export function layoutFiles(
  blobs: Map<Digest, Uint8Array>,
  refs: { name: string; manifest: Descriptor }[],
): Map<string, Uint8Array> {
  const enc = new TextEncoder();
  const files = new Map<string, Uint8Array>();
  files.set('oci-layout', enc.encode(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: refs.map((r) => ({
      ...r.manifest,
      annotations: { ...r.manifest.annotations, [REF_NAME_ANNOTATION]: r.name },
    })),
  };
  files.set('index.json', enc.encode(JSON.stringify(index)));
  for (const [digest, bytes] of blobs) files.set(blobPath(digest), bytes);
  return files;
}
