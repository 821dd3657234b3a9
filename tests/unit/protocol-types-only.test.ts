// runtime/protocol describes the messages that cross SW <-> window <-> worker: types only, so that
// every side can import it without pulling in code. dependency-cruiser checks the folders it may
// import (.dependency-cruiser.cjs); its swc parser cannot tell `import type` apart, so this checks it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '../../runtime/protocol');
const VALUE_IMPORT = /^\s*import\s+(?!type\s)[^;]*?from\s*['"]\.{1,2}\/[^'"]+['"]/gm;

function valueImports(source: string): string[] {
  return [...source.matchAll(VALUE_IMPORT)].map((m) => m[0].trim());
}

describe('runtime/protocol', () => {
  it('imports only types from the rest of berth', () => {
    const found = readdirSync(DIR)
      // Its tests import what they test; they are not part of what the sides import.
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.test.ts'))
      .flatMap((f) => valueImports(readFileSync(join(DIR, f), 'utf8')).map((i) => `${f}: ${i}`));
    expect(found).toEqual([]);
  });

  it('the check catches a value import', () => {
    expect(valueImports("import { runImage } from '../run/index.ts';\nimport type { X } from './x.ts';")).toEqual([
      "import { runImage } from '../run/index.ts'",
    ]);
  });
});
