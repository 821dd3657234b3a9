import { defineCommand, UsageError } from '../command.ts';
import { humanSize, table, timeAgo } from '../image-format.ts';
import { requireImage } from '../image-names.ts';
import { openStore, STORE_OPTION } from '../store.ts';

/**
 * `berth history IMAGE`: the image config's history, newest first, each step with the size of the
 * layer it made (as docker prints it); without a history, one row per layer.
 */
export const historyCommand = defineCommand({
  synopsis: 'IMAGE',
  options: {
    'no-trunc': { type: 'boolean', help: 'print whole commands' },
    format: { type: 'string', value: 'json', help: 'json: one JSON object per step and line' },
    ...STORE_OPTION,
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError('takes one image');
    if (values.format !== undefined && values.format !== 'json')
      throw new UsageError(`--format ${values.format}: berth prints json`);
    const { image } = await requireImage(openStore(values.store).images, positionals[0]);
    type Step = { created?: string; created_by?: string; empty_layer?: boolean; comment?: string };
    const history: Step[] = image.config?.history?.length
      ? image.config.history
      : image.layers.map(() => ({ created: image.config?.created, created_by: '' }));
    let layer = 0;
    const steps = history.map((h) => {
      const size = h.empty_layer ? 0 : (image.layers[layer++]?.size ?? 0);
      const created = h.created ? Date.parse(h.created) : undefined;
      return { created, createdBy: h.created_by ?? '', size, comment: h.comment ?? '' };
    });
    steps.reverse();
    if (values.format === 'json') {
      for (const s of steps)
        console.log(
          JSON.stringify({
            CreatedAt: s.created ? new Date(s.created).toISOString() : null,
            CreatedSince: timeAgo(s.created),
            CreatedBy: s.createdBy,
            Size: humanSize(s.size),
            Comment: s.comment,
          }),
        );
      return 0;
    }
    const cut = (t: string) => (values['no-trunc'] || t.length <= 45 ? t : `${t.slice(0, 44)}…`);
    console.log(
      table([
        ['CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
        ...steps.map((s) => [timeAgo(s.created), cut(s.createdBy), humanSize(s.size), s.comment]),
      ]),
    );
    return 0;
  },
});
