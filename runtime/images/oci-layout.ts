// Reading and writing OCI image layouts (image-layout.md of the OCI image spec): an `oci-layout`
// file, an `index.json`, and `blobs/<alg>/<hex>`. A LayoutReader abstracts where the files live
// (HTTP for seeds, a directory or a tar in Node).
import { digestHex, RuntimeError, type Descriptor, type Digest, type ImageIndex } from '../core/index.ts';

export interface LayoutReader {
  /** The file's bytes; RuntimeError('not-found') if missing. */
  read(path: string): Promise<Uint8Array>;
}

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

const dec = new TextDecoder();

export async function readLayoutIndex(reader: LayoutReader): Promise<ImageIndex> {
  const marker = JSON.parse(dec.decode(await reader.read('oci-layout'))) as { imageLayoutVersion?: string };
  if (marker.imageLayoutVersion !== '1.0.0') {
    throw new RuntimeError('invalid-argument', `unsupported OCI layout version ${JSON.stringify(marker.imageLayoutVersion)} (expected 1.0.0)`);
  }
  const index = JSON.parse(dec.decode(await reader.read('index.json'))) as ImageIndex;
  if (index.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
    throw new RuntimeError('invalid-argument', 'index.json of the OCI layout is not an image index (schemaVersion 2 with manifests)');
  }
  return index;
}

/** Files of an OCI layout holding `blobs`, with `refs` naming manifests in index.json. */
export function layoutFiles(blobs: Map<Digest, Uint8Array>, refs: { name: string; manifest: Descriptor }[]): Map<string, Uint8Array> {
  const enc = new TextEncoder();
  const files = new Map<string, Uint8Array>();
  files.set('oci-layout', enc.encode(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: refs.map((r) => ({ ...r.manifest, annotations: { ...r.manifest.annotations, [REF_NAME_ANNOTATION]: r.name } })),
  };
  files.set('index.json', enc.encode(JSON.stringify(index)));
  for (const [digest, bytes] of blobs) files.set(blobPath(digest), bytes);
  return files;
}
