import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSeed } from '../build-seed.ts';
import type { Command } from '../command.ts';

export const buildSeedCommand: Command = {
  name: 'build-seed',
  usage: 'build-seed [--examples DIR] [--out DIR]',
  summary: 'pack the example services into OCI layouts the app ships pre-seeded',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { examples: { type: 'string', default: 'examples' }, out: { type: 'string', default: 'public/seed' } },
    });
    await buildSeed({ examplesDir: resolve(values.examples), outDir: resolve(values.out), log: (s) => console.log(s) });
    return 0;
  },
};
