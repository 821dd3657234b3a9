import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { RuntimeError } from '../../runtime/core/index.ts';
import { saveImages } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import type { Command } from '../command.ts';
import { openStore } from '../store.ts';

export const saveCommand: Command = {
  name: 'save',
  usage: 'save REF... -o FILE.tar [--store DIR]',
  summary: 'write images to an OCI image-layout tar (skopeo oci-archive:, podman load)',
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { store: { type: 'string' }, output: { type: 'string', short: 'o' } } });
    if (!positionals.length) throw new RuntimeError('invalid-argument', 'save takes one or more image references');
    if (!values.output) throw new RuntimeError('invalid-argument', 'save needs -o FILE.tar');
    const refs = positionals.map((p) => (p.startsWith('sha256:') ? p : formatReference(parseReference(p))));
    const tar = await saveImages(openStore(values.store).images, refs);
    await writeFile(values.output, tar);
    console.log(`saved ${refs.join(', ')} to ${values.output} (${tar.length} bytes)`);
    return 0;
  },
};
