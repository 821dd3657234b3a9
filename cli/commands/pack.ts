import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { RuntimeError } from '../../runtime/core/index.ts';
import { importLayout, layoutFiles, packImage, packWasmArtifact } from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import type { Command } from '../command.ts';
import { openStore } from '../store.ts';
import { envFromArgs } from '../env-args.ts';

export const packCommand: Command = {
  name: 'pack',
  usage: 'pack APP.wasm -t REF [--add SRC:DEST]... [--dir PATH]... [-e K=V]... [--entrypoint PATH] [--cmd ARG]... [-w DIR] [--artifact] [--oci DIR] [--store DIR]',
  summary: 'make a wasi/wasm image (or, with --artifact, a CNCF Wasm artifact) from a .wasm, into the store or an OCI layout dir',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        tag: { type: 'string', short: 't' },
        add: { type: 'string', multiple: true, default: [] },
        dir: { type: 'string', multiple: true, default: [] },
        env: { type: 'string', short: 'e', multiple: true, default: [] },
        entrypoint: { type: 'string' },
        cmd: { type: 'string', multiple: true },
        workdir: { type: 'string', short: 'w' },
        oci: { type: 'string' },
        artifact: { type: 'boolean', default: false },
        store: { type: 'string' },
      },
    });
    if (positionals.length !== 1) throw new RuntimeError('invalid-argument', 'pack takes one .wasm file');
    if (!values.tag) throw new RuntimeError('invalid-argument', 'pack needs -t REF');
    const ref = formatReference(parseReference(values.tag));
    const wasm = new Uint8Array(await readFile(positionals[0]));
    if (!WebAssembly.validate(wasm)) throw new RuntimeError('invalid-argument', `${positionals[0]} is not a valid WebAssembly module`);
    const files = await Promise.all(
      values.add.map(async (spec) => {
        const colon = spec.lastIndexOf(':');
        if (colon <= 0 || !spec.slice(colon + 1).startsWith('/')) throw new RuntimeError('invalid-argument', `--add ${spec}: expected SRC:/absolute/dest`);
        return { path: spec.slice(colon + 1), data: new Uint8Array(await readFile(spec.slice(0, colon))) };
      }),
    );
    const env = envFromArgs(values.env, false);
    const wasmPath = values.entrypoint ?? '/app.wasm';
    if (values.artifact && (files.length || values.dir.length || Object.keys(env).length || values.cmd || values.workdir || values.entrypoint)) {
      throw new RuntimeError('invalid-argument', 'a Wasm artifact holds only the module: --artifact takes no --add, --dir, -e, --cmd, -w or --entrypoint');
    }
    const packed = values.artifact
      ? await packWasmArtifact(wasm)
      : await packImage({ wasm, wasmPath, files, dirs: values.dir, env, cmd: values.cmd, workdir: values.workdir, entrypoint: [wasmPath] });
    const layout = layoutFiles(packed.blobs, [{ name: ref, manifest: packed.manifestDescriptor }]);
    if (values.oci) {
      for (const [path, bytes] of layout) {
        await mkdir(dirname(join(values.oci, path)), { recursive: true });
        await writeFile(join(values.oci, path), bytes);
      }
      console.log(`wrote ${ref} ${packed.manifestDescriptor.digest} to the OCI layout ${values.oci}`);
      return 0;
    }
    const [image] = await importLayout(openStore(values.store).images, { read: async (p) => layout.get(p) ?? Promise.reject(new RuntimeError('not-found', p)) });
    console.log(`${image.ref} ${image.digest}`);
    return 0;
  },
};
