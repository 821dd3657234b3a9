#!/usr/bin/env node
// The berth command. Runs the JavaScript that esbuild built into dist-cli/ (npm install, npm run
// build:cli) while every source it was built from is unchanged; otherwise the TypeScript sources
// through tsx's loader, with a note on stderr. BERTH_CLI=dist runs the build even if it is stale,
// BERTH_CLI=src the sources (no note).
import { staleReason } from '../scripts/cli-stale.js';

const mode = process.env.BERTH_CLI;
const why = mode === 'dist' || mode === 'src' ? null : staleReason();
if (mode !== 'src' && why === null) {
  await import('../dist-cli/main.js');
} else {
  if (why) process.stderr.write(`berth: ${why}; running the sources with tsx (npm run build:cli rebuilds it)\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
