// vitest globalSetup: builds the CLI into dist-cli/ when it is missing or older than its sources,
// so the tests that spawn bin/berth.js (with BERTH_CLI=dist, see vitest.config.ts) run the built
// JavaScript of this tree. A failed build is reported, not fatal: the tests that need it fail.
import { buildCli } from '../../scripts/build-cli.js';
import { staleReason } from '../../scripts/cli-stale.js';

export default async function setup(): Promise<void> {
  const why = staleReason();
  if (why === null) return;
  try {
    await buildCli({ quiet: true });
  } catch (e) {
    console.error(`tests: building the CLI failed (${why}): ${(e as Error).message}`);
  }
}
