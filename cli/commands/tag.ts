import { parseReference, formatReference } from '../../runtime/registry/index.ts';
import { argument } from '../args.ts';
import { defineCommand, UsageError } from '../command.ts';
import { requireImage } from '../image-names.ts';
import { openStore, STORE_OPTION } from '../store.ts';

export const tagCommand = defineCommand({
  synopsis: 'SOURCE TARGET',
  options: { ...STORE_OPTION },
  async run({ values, positionals }) {
    if (positionals.length !== 2) throw new UsageError('takes a stored image and a new reference for it');
    const target = argument(() => formatReference(parseReference(positionals[1])));
    const store = openStore(values.store).images;
    const { image } = await requireImage(store, positionals[0]);
    const old = await store.images.get(target);
    if (old?.digest === image.digest) return 0;
    // The reference moves: an image a service is pinned to stays stored by its digest.
    if (old) await store.pinIfUsed(old);
    await store.images.put(target, { ...image, ref: target, stored: Date.now() });
    return 0;
  },
});
