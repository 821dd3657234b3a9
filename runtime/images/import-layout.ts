// Importing images from an OCI image layout (a seed folder served over HTTP, a directory, a tar):
// the layout is an IngestSource and every image it names goes through the one ingest pipeline
// (ingest.ts), exactly as a pull does: media types, digests and sizes checked, the platform chosen
// from an index, a lease, every blob verified, layers unpacked and indexed, the record written last.
import type { ImageRecord } from './image-record.ts';
import type { ImageStore } from './image-store.ts';
import { ingestImage, type IngestOptions } from './ingest.ts';
import { LayoutSource } from './layout-source.ts';
import type { LayoutReader } from './oci-layout.ts';

export interface ImportProgress {
  ref: string;
  done: number;
  total: number;
}

export interface ImportOptions extends Omit<IngestOptions, 'onProgress'> {
  /** Name to give an image whose index entry has no ref.name annotation. */
  defaultRef?: string;
  /** Rewrites the names of index.json before they are used. */
  normalizeRef?: (ref: string) => string;
  /** For messages, e.g. "the archive". */
  label?: string;
  onProgress?: (p: ImportProgress) => void;
}

/** Imports every image the layout names (signature images aside), one after the other. */
export async function importLayout(
  store: ImageStore,
  reader: LayoutReader,
  options: ImportOptions = {},
): Promise<ImageRecord[]> {
  const { defaultRef, normalizeRef, label, ...ingest } = options;
  const source = new LayoutSource(reader, { defaultRef, normalizeRef, label });
  const out: ImageRecord[] = [];
  for (const ref of await source.imageRefs()) out.push(await ingestImage(store, source, ref, ingest));
  return out;
}
