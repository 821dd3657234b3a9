import { openAsBlob } from 'node:fs';
import { Readable } from 'node:stream';
import { loadImages } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import { argument } from '../args.ts';
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
      help: 'the OCI image-layout or docker save tar to read, - for stdin (default: stdin when it is not a terminal)',
    },
    ref: { type: 'string', value: 'REF', help: 'the name for an image the archive does not name' },
    quiet: { type: 'boolean', short: 'q', help: 'print nothing but errors' },
    ...STORE_OPTION,
  },
  async run({ values }) {
    const fromStdin = values.input === '-' || (values.input === undefined && !process.stdin.isTTY);
    if (!fromStdin && !values.input) throw new UsageError('needs -i FILE.tar (stdin is a terminal)');
    const defaultRef =
      values.ref === undefined ? undefined : argument(() => formatReference(parseReference(values.ref!)));
    const stream = fromStdin
      ? (Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>)
      : ((await openAsBlob(values.input!)).stream() as ReadableStream<Uint8Array>);
    const images = await loadImages(openStore(values.store).images, stream, {
      normalizeRef: normalizeRefLoosely,
      ...(defaultRef ? { defaultRef } : {}),
    });
    if (!values.quiet) for (const i of images) console.log(`loaded ${i.ref} ${i.digest}`);
    return 0;
  },
});
