import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { nodeCodecs } from '../../runtime/content/node-codecs.ts';
import { wasmBinaryKind } from '../../runtime/wasm/index.ts';
import { RuntimeError, type ImageIndex } from '../../runtime/core/index.ts';
import {
  importLayout,
  layoutFiles,
  packImage,
  packWasmArtifact,
  REF_NAME_ANNOTATION,
} from '../../runtime/images/index.ts';
import { formatReference, parseReference } from '../../runtime/registry/index.ts';
import { argument, envFromArgs, parseAddSpec } from '../args.ts';
import { defineCommand, UsageError } from '../command.ts';
import { componentInfo } from '../component-loader.ts';
import { openStore, STORE_OPTION } from '../store.ts';

/**
 * The image's creation time: $SOURCE_DATE_EPOCH (seconds) when set, for reproducible builds (the
 * same input then packs to the same digests), else now, as docker build does.
 */
function creationTime(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
  if (!/^\d+$/.test(epoch)) throw new UsageError(`SOURCE_DATE_EPOCH=${epoch}: expected whole seconds since 1970`);
  return new Date(Number(epoch) * 1000).toISOString();
}

/** `--add SRC:/DEST`: a file, or every file under a directory, placed under DEST (with their modes). */
async function hostFiles(src: string, dest: string): Promise<{ path: string; data: Uint8Array; mode?: number }[]> {
  const s = await stat(src).catch((e: NodeJS.ErrnoException) => {
    throw new RuntimeError(
      'not-found',
      `--add ${src}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`,
    );
  });
  if (!s.isDirectory()) return [{ path: dest, data: new Uint8Array(await readFile(src)), mode: s.mode & 0o777 }];
  const out: { path: string; data: Uint8Array; mode?: number }[] = [];
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue; // directories come with their files; symlinks and devices are left out
    const full = join(entry.parentPath, entry.name);
    const rel = relative(src, full).split(sep).join('/');
    out.push({
      path: `${dest.replace(/\/+$/, '')}/${rel}`,
      data: new Uint8Array(await readFile(full)),
      mode: (await stat(full)).mode & 0o777,
    });
  }
  return out;
}

export const packCommand = defineCommand({
  synopsis: 'APP.wasm',
  options: {
    tag: {
      type: 'string',
      short: 't',
      multiple: true,
      value: 'REF',
      help: 'a reference to store the image as (at least one)',
    },
    add: {
      type: 'string',
      multiple: true,
      value: 'SRC:/DEST',
      help: 'copy the host file SRC into the image at /DEST (a directory: all it holds, under /DEST)',
    },
    label: { type: 'string', multiple: true, value: 'K=V', help: "set a label in the image's config" },
    dir: {
      type: 'string',
      multiple: true,
      value: 'PATH',
      help: 'make an empty directory in the image (a mount point for volumes)',
    },
    env: {
      type: 'string',
      short: 'e',
      multiple: true,
      value: 'K=V',
      help: "set an environment variable in the image's config",
    },
    entrypoint: {
      type: 'string',
      value: 'PATH',
      defaultText: '/app.wasm',
      help: 'where the .wasm goes in the image, and its entrypoint',
    },
    cmd: { type: 'string', multiple: true, value: 'ARG', help: "the image's default arguments, one per --cmd" },
    workdir: { type: 'string', short: 'w', value: 'DIR', help: "the image's working directory" },
    artifact: { type: 'boolean', help: 'make a CNCF Wasm artifact (the module alone) instead of an image' },
    oci: { type: 'string', value: 'DIR', help: 'write an OCI image layout to DIR instead of the store' },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('takes one .wasm file');
    if (!values.tag.length) throw new UsageError('needs -t REF');
    const refs = values.tag.map((t) => argument(() => formatReference(parseReference(t))));
    const adds = values.add.map(parseAddSpec);
    const env = envFromArgs(values.env, false);
    const labels: Record<string, string> = {};
    for (const kv of values.label) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new UsageError(`--label ${kv}: expected KEY=VALUE`);
      labels[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const created = creationTime();
    if (
      values.artifact &&
      (adds.length ||
        values.dir.length ||
        values.env.length ||
        values.cmd.length ||
        values.workdir ||
        values.entrypoint)
    ) {
      throw new UsageError(
        'a Wasm artifact holds only the module: --artifact takes no --add, --dir, -e, --cmd, -w or --entrypoint',
      );
    }
    const wasm = new Uint8Array(await readFile(positionals[0]));
    // A component is packed as it is (the engine cannot validate one; berth recognises it when run).
    const kind = wasmBinaryKind(wasm);
    if (kind === 'not-wasm' || (kind === 'module' && !WebAssembly.validate(wasm)))
      throw new RuntimeError('invalid-argument', `${positionals[0]} is not a valid WebAssembly module or component`);
    const files = (await Promise.all(adds.map(({ src, dest }) => hostFiles(src, dest)))).flat();
    const wasmPath = values.entrypoint ?? '/app.wasm';
    const packed = values.artifact
      ? await packWasmArtifact(wasm, {
          codecs: nodeCodecs,
          created,
          ...(kind === 'component' ? { component: await componentInfo(wasm) } : {}),
        })
      : await packImage({
          codecs: nodeCodecs,
          wasm,
          wasmPath,
          files,
          dirs: values.dir,
          env,
          cmd: values.cmd.length ? values.cmd : undefined,
          workdir: values.workdir,
          entrypoint: [wasmPath],
          created,
          ...(values.label.length ? { labels } : {}),
        });
    const layout = layoutFiles(
      packed.blobs,
      refs.map((name) => ({ name, manifest: packed.manifestDescriptor })),
    );
    if (values.oci) {
      // Into an existing layout, as skopeo and umoci do: its other images stay; one of this name is replaced.
      const existing = await readFile(join(values.oci, 'index.json'), 'utf8').catch(() => undefined);
      if (existing !== undefined) {
        const index = JSON.parse(existing) as ImageIndex;
        const ours = JSON.parse(new TextDecoder().decode(layout.get('index.json'))) as ImageIndex;
        const others = (index.manifests ?? []).filter(
          (m) => !refs.includes(m.annotations?.[REF_NAME_ANNOTATION] ?? ''),
        );
        layout.set(
          'index.json',
          new TextEncoder().encode(JSON.stringify({ ...ours, manifests: [...others, ...ours.manifests] })),
        );
      }
      for (const [path, bytes] of layout) {
        await mkdir(dirname(join(values.oci, path)), { recursive: true });
        await writeFile(join(values.oci, path), bytes);
      }
      console.log(`wrote ${refs.join(', ')} ${packed.manifestDescriptor.digest} to the OCI layout ${values.oci}`);
      return 0;
    }
    const images = await importLayout(openStore(values.store).images, {
      read: async (p) => layout.get(p) ?? Promise.reject(new RuntimeError('not-found', p)),
    });
    for (const image of images) console.log(`${image.ref} ${image.digest}`);
    return 0;
  },
});
