import { parseArgs } from 'node:util';
import { pullImage, parsePlatform } from '../../runtime/images/index.ts';
import { parseReference } from '../../runtime/registry/index.ts';
import type { Command } from '../command.ts';
import { pullProgressPrinter } from '../progress.ts';
import { REGISTRY_OPTIONS, registryClient, trustPolicy } from '../registry-options.ts';
import { openStore } from '../store.ts';

export const pullCommand: Command = {
  name: 'pull',
  usage: 'pull REF [--platform OS/ARCH] [-u USER:PASS | -u USER --password-stdin] [--insecure-registry HOST] [--allow-registry HOST]... [--require-signature KEY.pub]... [--store DIR]',
  summary: 'pull an image from a registry into the store (verified, unpacked)',
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...REGISTRY_OPTIONS, platform: { type: 'string' }, quiet: { type: 'boolean', short: 'q', default: false } } });
    if (positionals.length !== 1) throw new Error('pull takes exactly one image reference');
    const ref = parseReference(positionals[0]);
    const store = openStore(values.store);
    const image = await pullImage(store.images, registryClient(values, ref.registry), ref, {
      platforms: values.platform ? [parsePlatform(values.platform)] : undefined,
      onProgress: values.quiet ? undefined : pullProgressPrinter(),
      policy: trustPolicy(values),
    });
    console.log(`${image.ref} ${image.digest}`);
    return 0;
  },
};
