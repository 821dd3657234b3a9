import { parseArgs } from 'node:util';
import { RuntimeError } from '../../runtime/core/index.ts';
import { pullImage } from '../../runtime/images/index.ts';
import { contentByteSources, ModuleCache, runImage } from '../../runtime/run/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import type { Command } from '../command.ts';
import { pullProgressPrinter } from '../progress.ts';
import { REGISTRY_OPTIONS, registryClient, trustPolicy } from '../registry-options.ts';
import { fdWriter, stdinPullSource } from '../stdio.ts';
import { openStore } from '../store.ts';
import { envFromArgs } from '../env-args.ts';

export const runCommand: Command = {
  name: 'run',
  usage: 'run REF [-e K=V]... [-v VOLUME:/path]... [-w DIR] [--entrypoint PATH] [--store DIR] [-- ARGS...]',
  summary: "run an image's entrypoint (pulling it first if needed); exits with the program's code",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...REGISTRY_OPTIONS,
        env: { type: 'string', short: 'e', multiple: true, default: [] },
        volume: { type: 'string', short: 'v', multiple: true, default: [] },
        workdir: { type: 'string', short: 'w' },
        entrypoint: { type: 'string' },
      },
    });
    if (positionals.length < 1) throw new RuntimeError('invalid-argument', 'run takes an image reference');
    const [refArg, ...programArgs] = positionals;
    const store = openStore(values.store);
    let image = await store.images.get(refArg.startsWith('sha256:') ? refArg : formatReference(parseReference(refArg)));
    if (!image) {
      const ref = parseReference(refArg);
      image = await pullImage(store.images, registryClient(values, ref.registry), ref, { onProgress: pullProgressPrinter(), policy: trustPolicy(values) });
    }
    const env = envFromArgs(values.env, true);
    const volumes = values.volume.map((v) => {
      const colon = v.indexOf(':');
      if (colon <= 0 || !v.slice(colon + 1).startsWith('/')) throw new RuntimeError('invalid-argument', `-v ${v}: expected VOLUME:/absolute/path`);
      return { name: v.slice(0, colon), path: v.slice(colon + 1) };
    });
    const result = await runImage({ content: store.content, records: store.records, modules: new ModuleCache(), byteSource: contentByteSources(store.content) }, image.digest, {
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
};
