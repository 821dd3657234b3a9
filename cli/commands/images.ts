import { defineCommand } from '../command.ts';
import { openStore, STORE_OPTION } from '../store.ts';

export const imagesCommand = defineCommand({
  options: {
    json: { type: 'boolean', help: 'print a JSON array instead of a table' },
    ...STORE_OPTION,
  },
  async run({ values }) {
    const images = await openStore(values.store).images.list();
    if (values.json) {
      console.log(
        JSON.stringify(
          images.map((i) => ({
            ref: i.ref,
            digest: i.digest,
            platform: `${i.platform.os}/${i.platform.architecture}`,
            size: i.size,
            layers: i.layers.length,
            stored: new Date(i.stored).toISOString(),
          })),
          null,
          2,
        ),
      );
      return 0;
    }
    const rows = [
      ['REFERENCE', 'DIGEST', 'PLATFORM', 'SIZE'],
      ...images.map((i) => [
        i.ref,
        i.digest.slice(0, 19),
        `${i.platform.os}/${i.platform.architecture}`,
        String(i.size),
      ]),
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows)
      console.log(
        r
          .map((cell, c) => cell.padEnd(widths[c]))
          .join('  ')
          .trimEnd(),
      );
    return 0;
  },
});
