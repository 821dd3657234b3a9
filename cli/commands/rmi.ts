import { isRuntimeError, RuntimeError } from '../../runtime/core/index.ts';
import { removeImage } from '../../runtime/images/index.ts';
import { imageArgument } from '../args.ts';
import { defineCommand, UsageError } from '../command.ts';
import { openStore, STORE_OPTION } from '../store.ts';

export const rmiCommand = defineCommand({
  synopsis: 'REF...',
  options: {
    force: {
      type: 'boolean',
      short: 'f',
      help: 'remove an image services are pinned to (they answer 502 until it is stored again)',
    },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    if (positionals.length === 0) throw new UsageError('takes one or more image references');
    const names = positionals.map(imageArgument);
    const store = openStore(values.store);
    for (const name of names) {
      const r = await removeImage(store.images, name, { force: values.force }).catch((e: unknown) => {
        if (!isRuntimeError(e, 'failed-precondition')) throw e;
        throw new RuntimeError(e.code, `${e.message} (berth rmi --force)`, { cause: e });
      });
      console.log(`removed ${r.image.ref} (${r.image.digest}); freed ${r.freedBytes} bytes in ${r.removedBlobs} blobs`);
    }
    return 0;
  },
});
