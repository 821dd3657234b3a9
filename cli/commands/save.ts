import { writeFile } from 'node:fs/promises';
import { saveImages } from '../../runtime/images/index.ts';
import { requireImage } from '../image-names.ts';
import { defineCommand, UsageError } from '../command.ts';
import { openStore, STORE_OPTION } from '../store.ts';

export const saveCommand = defineCommand({
  synopsis: 'REF...',
  options: {
    output: { type: 'string', short: 'o', value: 'FILE.tar', help: 'the tar to write (required)' },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    if (!positionals.length) throw new UsageError('takes one or more image references');
    if (!values.output) throw new UsageError('needs -o FILE.tar');
    const store = openStore(values.store).images;
    const refs: string[] = [];
    for (const arg of positionals) {
      const { image, byId } = await requireImage(store, arg);
      refs.push(byId ? image.digest : image.ref);
    }
    const tar = await saveImages(store, refs);
    await writeFile(values.output, tar);
    console.log(`saved ${refs.join(', ')} to ${values.output} (${tar.length} bytes)`);
    return 0;
  },
});
