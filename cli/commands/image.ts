import { collectGarbage } from '../../runtime/images/index.ts';
import { defineCommand, UsageError } from '../command.ts';
import { humanSize } from '../image-format.ts';
import { openStore, STORE_OPTION } from '../store.ts';

/** `berth image prune`: frees the blobs no image, service or running pull needs (as system prune, without volumes). */
export const imageCommand = defineCommand({
  synopsis: 'prune',
  options: { ...STORE_OPTION },
  async run({ values, positionals }) {
    if (positionals.length !== 1 || positionals[0] !== 'prune') throw new UsageError('takes prune');
    const r = await collectGarbage(openStore(values.store).images);
    console.log(`freed ${humanSize(r.freedBytes)} in ${r.removedBlobs} blobs`);
    return 0;
  },
});
