import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSeed } from '../build-seed.ts';
import { defineCommand } from '../command.ts';

export const buildSeedCommand = defineCommand({
  options: {
    examples: { type: 'string', default: 'examples', value: 'DIR', help: 'the examples to pack' },
    out: { type: 'string', default: 'public/seed', value: 'DIR', help: 'where to write the seed' },
    config: {
      type: 'string',
      value: 'FILE',
      defaultText: '$BERTH_SEED_CONFIG, else berth.seed.json if there is one',
      help: 'the workshop config',
    },
  },
  async run({ values }) {
    const config =
      values.config ??
      (process.env.BERTH_SEED_CONFIG || (existsSync('berth.seed.json') ? 'berth.seed.json' : undefined));
    await buildSeed({
      examplesDir: resolve(values.examples),
      outDir: resolve(values.out),
      config,
      log: (s) => console.log(s),
    });
    return 0;
  },
});
