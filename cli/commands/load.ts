import { openAsBlob } from 'node:fs';
import { parseArgs } from 'node:util';
import { RuntimeError } from '../../runtime/core/index.ts';
import { loadImages } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import type { Command } from '../command.ts';
import { openStore } from '../store.ts';

export function normalizeRefLoosely(ref: string): string {
  try {
    return formatReference(parseReference(ref));
  } catch {
    return ref;
  }
}

export const loadCommand: Command = {
  name: 'load',
  usage: 'load -i FILE.tar [--store DIR]',
  summary: 'load images from an OCI image-layout tar or a docker save tar',
  async run(args) {
    const { values } = parseArgs({ args, options: { store: { type: 'string' }, input: { type: 'string', short: 'i' } } });
    if (!values.input) throw new RuntimeError('invalid-argument', 'load needs -i FILE.tar');
    const blob = await openAsBlob(values.input);
    const images = await loadImages(openStore(values.store).images, blob.stream() as ReadableStream<Uint8Array>, { normalizeRef: normalizeRefLoosely });
    for (const i of images) console.log(`loaded ${i.ref} ${i.digest}`);
    return 0;
  },
};
