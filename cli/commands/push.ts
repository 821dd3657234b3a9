import { parseArgs } from 'node:util';
import { pushImage } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import type { Command } from '../command.ts';
import { REGISTRY_OPTIONS, registryClient } from '../registry-options.ts';
import { openStore } from '../store.ts';

export const pushCommand: Command = {
  name: 'push',
  usage: 'push REF [TARGET] [-u USER:PASS | -u USER --password-stdin] [--insecure-registry HOST] [--store DIR]',
  summary: 'push a stored image to a registry (as TARGET if given)',
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: REGISTRY_OPTIONS });
    if (positionals.length < 1 || positionals.length > 2) throw new Error('push takes REF and an optional TARGET reference');
    const source = positionals[0].startsWith('sha256:') ? positionals[0] : formatReference(parseReference(positionals[0]));
    const target = parseReference(positionals[1] ?? source);
    const store = openStore(values.store);
    const r = await pushImage(store.images, registryClient(values, target.registry), source, formatReference(target), (p) => {
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2Kpushing ${p.ref}: ${p.done}/${p.total} bytes`);
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(`${r.ref} ${r.digest}`);
    return 0;
  },
};
