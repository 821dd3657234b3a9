import { openAsBlob } from 'node:fs';
import { loadImages } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import { defineCommand, UsageError } from '../command.ts';
import { openStore, STORE_OPTION } from '../store.ts';

export function normalizeRefLoosely(ref: string): string {
  try {
    return formatReference(parseReference(ref));
  } catch {
    return ref;
  }
}

export const loadCommand = defineCommand({
  options: {
    input: {
      type: 'string',
      short: 'i',
      value: 'FILE.tar',
      help: 'the OCI image-layout or docker save tar to read (required)',
    },
    ...STORE_OPTION,
  },
  async run({ values }) {
    if (!values.input) throw new UsageError('needs -i FILE.tar');
    const blob = await openAsBlob(values.input);
    const images = await loadImages(openStore(values.store).images, blob.stream() as ReadableStream<Uint8Array>, {
      normalizeRef: normalizeRefLoosely,
    });
    for (const i of images) console.log(`loaded ${i.ref} ${i.digest}`);
    return 0;
  },
});
