import { parseArgs } from 'node:util';
import { RuntimeError } from '../../runtime/core/index.ts';
import { pullImage } from '../../runtime/images/index.ts';
import { assembleRootfs, blobByteSource, imageCommand, openLayerTree, readWholeFile, runProgram, VolumeStore } from '../../runtime/host/index.ts';
import { MemTree } from '../../runtime/vfs/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import type { Command } from '../command.ts';
import { pullProgressPrinter } from '../progress.ts';
import { REGISTRY_OPTIONS, registryClient } from '../registry-options.ts';
import { fdWriter, stdinPullSource } from '../stdio.ts';
import { openStore } from '../store.ts';

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
      image = await pullImage(store.images, registryClient(values, ref.registry), ref, { onProgress: pullProgressPrinter() });
    }
    const env: Record<string, string> = {};
    for (const kv of values.env) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
      else if (process.env[kv] !== undefined) env[kv] = process.env[kv]!; // -e NAME passes the host's value, as docker does
      else throw new RuntimeError('invalid-argument', `-e ${kv}: expected NAME=VALUE`);
    }
    const volumes = values.volume.map((v) => {
      const colon = v.indexOf(':');
      if (colon <= 0 || !v.slice(colon + 1).startsWith('/')) throw new RuntimeError('invalid-argument', `-v ${v}: expected VOLUME:/absolute/path`);
      return { name: v.slice(0, colon), path: v.slice(colon + 1) };
    });
    const command = imageCommand(image.config, {
      entrypoint: values.entrypoint ? [values.entrypoint] : undefined,
      args: programArgs.length ? programArgs : undefined,
      env,
      workdir: values.workdir,
    });
    const lower = await openLayerTree(store.images, image, blobByteSource);
    const module = await WebAssembly.compile(readWholeFile(lower, command.argv[0]) as Uint8Array<ArrayBuffer>);
    const volumeStore = new VolumeStore(store.records);
    const tree = new MemTree(3n);
    const mounts = await Promise.all(volumes.map(async (v) => ({ ...v, dir: await volumeStore.open(v.name, tree) })));
    const result = await runProgram({
      module,
      root: assembleRootfs(lower, mounts),
      args: command.argv,
      env: command.env,
      stdin: stdinPullSource(),
      stdout: fdWriter(1),
      stderr: fdWriter(2),
    });
    if (result.error) {
      process.stderr.write(`berth: ${image.ref} trapped: ${result.error.stack ?? result.error.message}\n`);
      return 134;
    }
    for (const m of mounts) await volumeStore.commit(m.name, m.dir);
    return result.exitCode;
  },
};
