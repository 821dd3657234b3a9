import { defineCommand, UsageError } from '../command.ts';
import { createdMs, humanSize, matchesReference, splitReference, table, timeAgo } from '../image-format.ts';
import { shortId } from '../image-names.ts';
import { openStore, STORE_OPTION } from '../store.ts';

export const imagesCommand = defineCommand({
  options: {
    quiet: { type: 'boolean', short: 'q', help: 'print the image IDs only (once each)' },
    filter: {
      type: 'string',
      short: 'f',
      multiple: true,
      value: 'reference=PATTERN',
      help: 'list only images whose reference matches PATTERN (* and ? within a path segment)',
    },
    format: { type: 'string', value: 'json', help: 'json: one JSON object per image and line, as docker prints' },
    'no-trunc': { type: 'boolean', help: 'print whole digests in the IMAGE ID column' },
    json: { type: 'boolean', help: 'print one JSON array (berth fields) instead of a table' },
    ...STORE_OPTION,
  },
  async run({ values }) {
    const patterns = values.filter.map((f) => {
      const m = /^reference=(.+)$/.exec(f);
      if (!m) throw new UsageError(`--filter ${f}: berth filters by reference=PATTERN`);
      return m[1];
    });
    if (values.format !== undefined && values.format !== 'json')
      throw new UsageError(`--format ${values.format}: berth prints json (or a table without --format)`);
    const images = (await openStore(values.store).images.list()).filter(
      (i) => patterns.length === 0 || patterns.some((p) => matchesReference(i.ref, p)),
    );
    const id = (digest: string) => (values['no-trunc'] ? digest : shortId(digest));
    if (values.quiet) {
      for (const d of new Set(images.map((i) => id(i.digest)))) console.log(d);
      return 0;
    }
    if (values.json) {
      console.log(
        JSON.stringify(
          images.map((i) => ({
            ref: i.ref,
            digest: i.digest,
            platform: `${i.platform.os}/${i.platform.architecture}`,
            size: i.size,
            layers: i.layers.length,
            created: i.config?.created ?? null,
            stored: new Date(i.stored).toISOString(),
          })),
          null,
          2,
        ),
      );
      return 0;
    }
    if (values.format === 'json') {
      for (const i of images) {
        const [repository, tag] = splitReference(i.ref);
        const created = createdMs(i);
        console.log(
          JSON.stringify({
            Repository: repository,
            Tag: tag,
            ID: id(i.digest),
            Digest: i.digest,
            CreatedAt: created === undefined ? null : new Date(created).toISOString(),
            CreatedSince: timeAgo(created),
            Size: humanSize(i.size),
            Platform: `${i.platform.os}/${i.platform.architecture}`,
          }),
        );
      }
      return 0;
    }
    const rows = [
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      ...images.map((i) => [...splitReference(i.ref), id(i.digest), timeAgo(createdMs(i)), humanSize(i.size)]),
    ];
    console.log(table(rows));
    return 0;
  },
});
