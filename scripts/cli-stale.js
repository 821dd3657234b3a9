// Whether the CLI that scripts/build-cli.js built into dist-cli/ can be run as it is. bin/berth.js
// asks this on every start, so it imports nothing but node:fs and node:url.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the CLI is built. */
export const CLI_DIST = `${ROOT}dist-cli`;
/** The build's record of every source file it read: `{"inputs": [[path from the root, mtimeMs, size], ...]}`. */
export const MANIFEST = 'build.json';

/**
 * Why the build in `dist` cannot be run as it is: not built, or a source it was built from has
 * changed since it was read (or is gone); null when it is current. A stat per source file, about a
 * millisecond.
 * @param {string} [dist]
 * @returns {string | null}
 */
export function staleReason(dist = CLI_DIST) {
  const name = dist.startsWith(ROOT) ? dist.slice(ROOT.length) : dist;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(`${dist}/${MANIFEST}`, 'utf8')).inputs;
  } catch {
    return `${name}/ is not built`;
  }
  for (const [path, mtimeMs, size] of inputs) {
    const s = statSync(ROOT + path, { throwIfNoEntry: false });
    if (!s || s.mtimeMs !== mtimeMs || s.size !== size) return `${path} changed since ${name}/ was built`;
  }
  return null;
}
