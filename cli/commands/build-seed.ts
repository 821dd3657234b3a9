import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSeed } from '../build-seed.ts';
import type { Command } from '../command.ts';

export const buildSeedCommand: Command = {
  name: 'build-seed',
  usage: 'build-seed [--examples DIR] [--out DIR] [--config FILE]',
  summary: 'pack the examples and a workshop config (default berth.seed.json) into the seed the app ships',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { examples: { type: 'string', default: 'examples' }, out: { type: 'string', default: 'public/seed' }, config: { type: 'string' } },
    });
    const config = values.config ?? (process.env.BERTH_SEED_CONFIG || (existsSync('berth.seed.json') ? 'berth.seed.json' : undefined));
    await buildSeed({ examplesDir: resolve(values.examples), outDir: resolve(values.out), config, log: (s) => console.log(s) });
    return 0;
  },
};
