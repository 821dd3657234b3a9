// Pulling an image from a registry into the store: the registry repository is an IngestSource and
// the one ingest pipeline (ingest.ts) does the rest: the trust policy, platform choice, media-type,
// digest and size checks, a lease, every blob verified before it is committed, layers unpacked and
// indexed, and the image record written last, so a pull is all or nothing.
import { formatReference, parseReference, type Reference, type RegistryClient } from '../registry/index.ts';
import type { ImageRecord } from './image-record.ts';
import type { ImageStore } from './image-store.ts';
import { ingestImage, type IngestOptions } from './ingest.ts';
import { RegistrySource } from './registry-source.ts';

export type PullOptions = IngestOptions;

export async function pullImage(
  store: ImageStore,
  client: RegistryClient,
  input: string | Reference,
  options: PullOptions = {},
): Promise<ImageRecord> {
  const ref = typeof input === 'string' ? parseReference(input) : input;
  return ingestImage(store, new RegistrySource(client, ref), formatReference(ref), options);
}
