// Enforces the layering of DESIGN.md: which folder may import which. `core` imports nothing;
// `registry`, `content`, `vfs`, `wasi` import only `core`; `wasi` never imports `vfs`; front ends
// (`app`, `sw`, `cli`) import the runtime and nothing imports them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

const ALLOWED: Record<string, string[]> = {
  'runtime/core': [],
  'runtime/registry': ['runtime/core'],
  'runtime/content': ['runtime/core'],
  'runtime/vfs': ['runtime/core'],
  'runtime/wasi': ['runtime/core'],
  'runtime/layers': ['runtime/core', 'runtime/content', 'runtime/vfs'],
  'runtime/images': ['runtime/core', 'runtime/content', 'runtime/registry', 'runtime/layers', 'runtime/vfs'],
  'runtime/host': ['runtime/core', 'runtime/registry', 'runtime/content', 'runtime/images', 'runtime/layers', 'runtime/vfs', 'runtime/wasi'],
  app: ['runtime/*'],
  sw: ['runtime/*'],
  cli: ['runtime/*'],
  examples: ['runtime/*'],
  bench: ['runtime/*', 'cli', 'tests'],
  tests: ['runtime/*', 'cli', 'app', 'sw'],
  scripts: ['runtime/*'],
};

function moduleOf(file: string): string | undefined {
  const rel = relative(ROOT, file).split(sep);
  if (rel[0] === 'runtime') return rel.length > 2 ? `runtime/${rel[1]}` : undefined;
  return rel[0] in ALLOWED ? rel[0] : undefined;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (/\.(ts|js|mjs)$/.test(name)) yield p;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+\.(?:ts|js|mjs))['"]\s*,\s*import\.meta\.url/g;

export function violations(): string[] {
  const out: string[] = [];
  for (const top of Object.keys(ALLOWED).filter((k) => !k.startsWith('runtime/')).concat(['runtime'])) {
    const dir = join(ROOT, top);
    try {
      statSync(dir);
    } catch {
      continue;
    }
    for (const file of sourceFiles(dir)) {
      const from = moduleOf(file);
      if (!from) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2] ?? m[3];
        if (!spec.startsWith('.')) continue;
        const to = moduleOf(resolve(dirname(file), spec));
        if (!to || to === from) continue;
        const allowed = ALLOWED[from].some((a) => a === to || (a === 'runtime/*' && to.startsWith('runtime/')));
        // A test file may use the shared suites in tests/ and the in-memory tree of vfs.
        const testException = file.endsWith('.test.ts') && (to === 'runtime/vfs' || to === 'tests');
        if (!allowed && !testException) out.push(`${relative(ROOT, file)} imports ${spec} (${from} -> ${to})`);
      }
    }
  }
  return out;
}

describe('dependency direction', () => {
  it('no module imports a folder the design does not allow', () => {
    expect(violations()).toEqual([]);
  });

  it('the check catches a forbidden import', () => {
    // The rule table itself must reject the edges the design forbids.
    const forbid = (from: string, to: string) => !ALLOWED[from].some((a) => a === to || (a === 'runtime/*' && to.startsWith('runtime/')));
    expect(forbid('runtime/wasi', 'runtime/vfs')).toBe(true);
    expect(forbid('runtime/core', 'runtime/content')).toBe(true);
    expect(forbid('runtime/host', 'sw')).toBe(true);
    expect(forbid('runtime/content', 'runtime/images')).toBe(true);
    expect(forbid('runtime/host', 'runtime/wasi')).toBe(false);
  });
});
