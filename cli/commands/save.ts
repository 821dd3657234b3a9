import { writeFile } from 'node:fs/promises';
import { saveDockerArchive, saveImages } from '../../runtime/images/index.ts';
import { defineCommand, UsageError } from '../command.ts';
import { requireImage } from '../image-names.ts';
import { openStore, STORE_OPTION } from '../store.ts';

/** Writes all of `bytes` to stdout, waiting for it to drain (a pipe reader may be slow). */
export async function writeStdout(bytes: Uint8Array): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    process.stdout.write(bytes, (e) => (e ? reject(e) : resolve()));
  });
}

export const saveCommand = defineCommand({
  synopsis: 'IMAGE...',
  options: {
    output: {
      type: 'string',
      short: 'o',
      value: 'FILE.tar',
      help: 'the tar to write, - for stdout (default: stdout when it is not a terminal)',
    },
    format: {
      type: 'string',
      value: 'oci-archive|docker-archive',
      default: 'oci-archive',
      help: 'an OCI image-layout tar, or a docker save tar (several images load in docker and podman)',
    },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    if (!positionals.length) throw new UsageError('takes one or more image references');
    if (values.format !== 'oci-archive' && values.format !== 'docker-archive')
      throw new UsageError(`--format ${values.format}: oci-archive or docker-archive`);
    const toStdout = values.output === '-' || (values.output === undefined && !process.stdout.isTTY);
    if (!toStdout && !values.output) throw new UsageError('needs -o FILE.tar (stdout is a terminal)');
    const store = openStore(values.store).images;
    const refs: string[] = [];
    for (const arg of positionals) {
      const { image, byId } = await requireImage(store, arg);
      refs.push(byId ? image.digest : image.ref);
    }
    const tar =
      values.format === 'docker-archive' ? await saveDockerArchive(store, refs) : await saveImages(store, refs);
    if (toStdout) {
      await writeStdout(tar);
      return 0;
    }
    await writeFile(values.output!, tar);
    console.log(`saved ${refs.join(', ')} to ${values.output} (${tar.length} bytes)`);
    return 0;
  },
});
