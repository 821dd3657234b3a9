import { pushImage } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import { argument } from '../args.ts';
import { requireImage } from '../image-names.ts';
import { defineCommand, UsageError } from '../command.ts';
import { REGISTRY_OPTIONS, registryClient } from '../registry-options.ts';
import { openStore } from '../store.ts';

export const pushCommand = defineCommand({
  synopsis: 'REF [TARGET]',
  options: REGISTRY_OPTIONS,
  async run({ values, positionals }) {
    if (positionals.length < 1 || positionals.length > 2)
      throw new UsageError('takes REF and an optional TARGET reference');
    const store = openStore(values.store);
    const { image, byId } = await requireImage(store.images, positionals[0]);
    const source = byId ? image.digest : image.ref;
    if (byId && positionals[1] === undefined) throw new UsageError('an image named by ID needs a TARGET reference');
    const target = argument(() => parseReference(positionals[1] ?? image.ref));
    const r = await pushImage(
      store.images,
      registryClient(values, target.registry),
      source,
      formatReference(target),
      (p) => {
        if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2Kpushing ${p.ref}: ${p.done}/${p.total} bytes`);
      },
    );
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(`${r.ref} ${r.digest}`);
    return 0;
  },
});
