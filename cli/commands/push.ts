import { pushImage } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import { argument, imageArgument } from '../args.ts';
import { defineCommand, UsageError } from '../command.ts';
import { REGISTRY_OPTIONS, registryClient } from '../registry-options.ts';
import { openStore } from '../store.ts';

export const pushCommand = defineCommand({
  synopsis: 'REF [TARGET]',
  options: REGISTRY_OPTIONS,
  async run({ values, positionals }) {
    if (positionals.length < 1 || positionals.length > 2)
      throw new UsageError('takes REF and an optional TARGET reference');
    const source = imageArgument(positionals[0]);
    const target = argument(() => parseReference(positionals[1] ?? source));
    const store = openStore(values.store);
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
