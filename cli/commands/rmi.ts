import { isRuntimeError, RuntimeError } from '../../runtime/core/index.ts';
import { removeImage } from '../../runtime/images/index.ts';
import { defineCommand, UsageError } from '../command.ts';
import { humanSize } from '../image-format.ts';
import { requireImage, shortId } from '../image-names.ts';
import { openStore, STORE_OPTION } from '../store.ts';

/**
 * `berth rmi IMAGE...`, as docker's: a reference is untagged, and the image goes (with the blobs no
 * other image needs) only when no reference names it any more; an ID or digest that several
 * references name is refused unless --force, which removes them all. An image a service runs is
 * refused unless --force.
 */
export const rmiCommand = defineCommand({
  synopsis: 'IMAGE...',
  options: {
    force: {
      type: 'boolean',
      short: 'f',
      help: 'remove an image several references or a service use (a service then answers 502 until it is stored again)',
    },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    if (positionals.length === 0) throw new UsageError('takes one or more image references or IDs');
    const store = openStore(values.store).images;
    for (const arg of positionals) {
      const { image, byId } = await requireImage(store, arg);
      const refs = (await store.list()).filter((i) => i.digest === image.digest).map((i) => i.ref);
      const named = byId ? (refs.length ? refs : [image.digest]) : [image.ref];
      if (byId && refs.length > 1 && !values.force) {
        throw new RuntimeError(
          'failed-precondition',
          `${arg} (${shortId(image.digest)}) is named by ${refs.length} references (${refs.join(', ')}): remove them by name, or all at once with berth rmi --force`,
        );
      }
      for (const name of named) {
        const r = await removeImage(store, name, { force: values.force }).catch((e: unknown) => {
          if (!isRuntimeError(e, 'failed-precondition')) throw e;
          throw new RuntimeError(e.code, `${e.message} (berth rmi --force)`, { cause: e });
        });
        if (name !== image.digest) console.log(`untagged: ${name}`);
        // The image itself goes with the last reference that named it.
        if (!(await store.list()).some((i) => i.digest === image.digest)) {
          console.log(`deleted: ${image.digest} (freed ${humanSize(r.freedBytes)} in ${r.removedBlobs} blobs)`);
        }
      }
    }
    return 0;
  },
});
