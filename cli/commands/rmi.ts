import { removeImage } from '../../runtime/images/index.ts';
import { imageArgument } from '../args.ts';
import { defineCommand, UsageError } from '../command.ts';
import { openStore, STORE_OPTION } from '../store.ts';

export const rmiCommand = defineCommand({
  synopsis: 'REF...',
  options: STORE_OPTION,
  async run({ values, positionals }) {
    if (positionals.length === 0) throw new UsageError('takes one or more image references');
    const names = positionals.map(imageArgument);
    const store = openStore(values.store);
    for (const name of names) {
      const r = await removeImage(store.images, name);
      console.log(`removed ${r.image.ref} (${r.image.digest}); freed ${r.freedBytes} bytes in ${r.removedBlobs} blobs`);
    }
    return 0;
  },
});
