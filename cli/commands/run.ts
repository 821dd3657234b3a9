import { parseDigest, RuntimeError } from '../../runtime/core/index.ts';
import { pullImage } from '../../runtime/images/index.ts';
import { nodeRunContext, runImage } from '../../runtime/run/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import { argument, envFromArgs, parseVolume } from '../args.ts';
import { nodeComponentLoader } from '../component-loader.ts';
import { defineCommand, UsageError } from '../command.ts';
import { pullProgressPrinter } from '../progress.ts';
import { REGISTRY_OPTIONS, registryClient, TRUST_OPTIONS, trustPolicy } from '../registry-options.ts';
import { fdWriter, stdinPullSource } from '../stdio.ts';
import { openStore } from '../store.ts';

export const runCommand = defineCommand({
  synopsis: 'REF [-- ARGS...]',
  options: {
    env: {
      type: 'string',
      short: 'e',
      multiple: true,
      value: 'K=V',
      help: "set an environment variable (K alone: the host's value, if it has one)",
    },
    volume: {
      type: 'string',
      short: 'v',
      multiple: true,
      value: 'VOLUME:/path',
      help: 'mount the named volume VOLUME (kept in the store) at /path',
    },
    workdir: {
      type: 'string',
      short: 'w',
      value: 'DIR',
      defaultText: "the image's",
      help: "the program's working directory",
    },
    entrypoint: { type: 'string', value: 'PATH', help: "the .wasm to run instead of the image's entrypoint" },
    ...REGISTRY_OPTIONS,
    ...TRUST_OPTIONS,
  },
  async run({ values, positionals }) {
    if (positionals.length < 1) throw new UsageError('takes an image reference');
    const [refArg, ...programArgs] = positionals;
    const env = envFromArgs(values.env, true);
    const volumes = values.volume.map(parseVolume);
    const ref = refArg.startsWith('sha256:')
      ? void argument(() => parseDigest(refArg, 'image digest'))
      : argument(() => parseReference(refArg));
    const store = openStore(values.store);
    let image = await store.images.get(ref ? formatReference(ref) : refArg);
    if (!image) {
      if (!ref)
        throw new RuntimeError('not-found', `${refArg}: no such image in the store (a digest cannot be pulled)`);
      image = await pullImage(store.images, registryClient(values, ref.registry), ref, {
        onProgress: pullProgressPrinter(),
        policy: trustPolicy(values),
      });
    }
    const ctx = nodeRunContext(store, { lock: store.lock, components: nodeComponentLoader() });
    const result = await runImage(ctx, image.digest, {
      entrypoint: values.entrypoint ? [values.entrypoint] : undefined,
      args: programArgs.length ? programArgs : undefined,
      env,
      workdir: values.workdir,
      volumes,
      stdin: stdinPullSource(),
      stdout: fdWriter(1),
      stderr: fdWriter(2),
    });
    if (result.trap) {
      process.stderr.write(`berth: ${image.ref} trapped: ${result.trap}\n`);
      return 134;
    }
    return result.exitCode;
  },
});
