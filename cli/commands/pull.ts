import { describeSignature, pullImage, parsePlatform } from '../../runtime/images/index.ts';
import { parseReference } from '../../runtime/registry/index.ts';
import { argument } from '../args.ts';
import { defineCommand, UsageError } from '../command.ts';
import { pullProgressPrinter } from '../progress.ts';
import { REGISTRY_OPTIONS, registryClient, TRUST_OPTIONS, trustPolicy } from '../registry-options.ts';
import { openStore } from '../store.ts';
import { terminalText } from '../terminal-text.ts';

export const pullCommand = defineCommand({
  synopsis: 'REF',
  options: {
    platform: {
      type: 'string',
      value: 'OS/ARCH',
      defaultText: 'wasi/wasm, then wasip1/wasm',
      help: 'the platform to pull from an index',
    },
    quiet: { type: 'boolean', short: 'q', help: 'print no progress' },
    ...REGISTRY_OPTIONS,
    ...TRUST_OPTIONS,
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('takes exactly one image reference');
    const ref = argument(() => parseReference(positionals[0]));
    const platforms = values.platform === undefined ? undefined : [argument(() => parsePlatform(values.platform!))];
    const store = openStore(values.store);
    const image = await pullImage(store.images, registryClient(values, ref.registry), ref, {
      platforms,
      onProgress: values.quiet ? undefined : pullProgressPrinter(),
      policy: trustPolicy(values),
    });
    // A single manifest has no platforms to choose from: say so when it is not the one asked for (as podman does).
    const asked = platforms?.[0];
    if (asked && (asked.os !== image.platform.os || asked.architecture !== image.platform.architecture)) {
      process.stderr.write(
        `${terminalText(
          `berth: warning: the image's platform (${image.platform.os}/${image.platform.architecture}) does not match the one asked for (${asked.os}/${asked.architecture})`,
        )}\n`,
      );
    }
    if (image.signature && !values.quiet) process.stderr.write(`Verified: ${describeSignature(image.signature)}\n`);
    console.log(`${image.ref} ${image.digest}`);
    return 0;
  },
});
