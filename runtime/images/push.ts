// Pushing a stored image to a registry: layers and config first (skipping blobs the registry
// has), then the manifest under the tag.
import { RuntimeError } from '../core/index.ts';
import {
  formatReference,
  parseReference,
  referenceTarget,
  type Reference,
  type RegistryClient,
} from '../registry/index.ts';
import type { ImageStore } from './image-store.ts';

export interface PushProgress {
  ref: string;
  done: number;
  total: number;
}

export async function pushImage(
  store: ImageStore,
  client: RegistryClient,
  source: string,
  target?: string,
  onProgress?: (p: PushProgress) => void,
): Promise<{ ref: string; digest: string }> {
  const image = await store.require(source);
  const ref: Reference = parseReference(target ?? image.ref);
  const name = formatReference(ref);
  const blobs = [image.manifest.config, ...image.manifest.layers];
  const total = blobs.reduce((a, b) => a + b.size, 0);
  let done = 0;
  onProgress?.({ ref: name, done, total });
  for (const desc of blobs) {
    const blob = await store.content.get(desc.digest);
    if (!blob)
      throw new RuntimeError(
        'data-loss',
        `blob ${desc.digest} of ${image.ref} is missing from the store; pull the image again`,
      );
    await client.pushBlob(ref, desc.digest, new Uint8Array(await blob.arrayBuffer()));
    done += desc.size;
    onProgress?.({ ref: name, done, total });
  }
  const manifestBlob = await store.content.get(image.digest);
  if (!manifestBlob) throw new RuntimeError('data-loss', `the manifest of ${image.ref} is missing from the store`);
  const digest = await client.pushManifest(
    ref,
    referenceTarget(ref),
    new Uint8Array(await manifestBlob.arrayBuffer()),
    image.mediaType,
  );
  return { ref: name, digest };
}
