import { defineCommand, UsageError } from '../command.ts';
import { requireImage } from '../image-names.ts';
import { openStore, STORE_OPTION } from '../store.ts';

/** `berth inspect IMAGE...`: a JSON array, one object per image, in the shape of docker's where berth has the same facts. */
export const inspectCommand = defineCommand({
  synopsis: 'IMAGE...',
  options: { ...STORE_OPTION },
  async run({ values, positionals }) {
    if (!positionals.length) throw new UsageError('takes one or more images');
    const store = openStore(values.store).images;
    const all = await store.list();
    const out = [];
    for (const arg of positionals) {
      const { image } = await requireImage(store, arg);
      const c = image.config ?? {};
      const cfg = c.config ?? {};
      out.push({
        Id: image.digest,
        RepoTags: all.filter((i) => i.digest === image.digest).map((i) => i.ref),
        ConfigDigest: image.configDigest,
        ...(image.indexDigest ? { IndexDigest: image.indexDigest } : {}),
        MediaType: image.mediaType,
        Created: c.created ?? null,
        Os: image.platform.os,
        Architecture: image.platform.architecture,
        ...(image.platform.variant ? { Variant: image.platform.variant } : {}),
        Config: {
          Entrypoint: cfg.Entrypoint ?? null,
          Cmd: cfg.Cmd ?? null,
          Env: cfg.Env ?? null,
          WorkingDir: cfg.WorkingDir ?? '',
          Labels: cfg.Labels ?? null,
        },
        RootFS: { Type: 'layers', Layers: image.layers.map((l) => l.diffId) },
        Layers: image.layers.map((l) => ({ Digest: l.digest, MediaType: l.mediaType, Size: l.size, DiffID: l.diffId })),
        Size: image.size,
        Stored: new Date(image.stored).toISOString(),
        ...(image.signature ? { Signature: image.signature } : {}),
      });
    }
    console.log(JSON.stringify(out, null, 2));
    return 0;
  },
});
