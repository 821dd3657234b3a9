import { parseArgs } from 'node:util';
import { removeImage } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import type { Command } from '../command.ts';
import { openStore } from '../store.ts';

export const rmiCommand: Command = {
  name: 'rmi',
  usage: 'rmi REF... [--store DIR]',
  summary: 'remove images and the blobs no other image needs',
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { store: { type: 'string' } } });
    if (positionals.length === 0) throw new Error('rmi takes one or more image references');
    const store = openStore(values.store);
    for (const p of positionals) {
      const name = p.startsWith('sha256:') ? p : formatReference(parseReference(p));
      const r = await removeImage(store.images, name);
      console.log(`removed ${r.image.ref} (${r.image.digest}); freed ${r.freedBytes} bytes in ${r.removedBlobs} blobs`);
    }
    return 0;
  },
};
