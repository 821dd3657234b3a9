// Path normalisation for tar entry names: strips a leading '/' and './', resolves '.' and
// empty components, and refuses a name whose '..' climbs above the layer root.
import { RuntimeError } from '../core/index.ts';

/** Returns the normalised relative path ('' for the root itself). */
export function normalizeTarPath(name: string, what = 'entry'): string {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) {
        throw new RuntimeError('invalid-argument', `tar ${what} "${name}" escapes the layer root with '..'`);
      }
      out.pop();
      continue;
    }
    if (part.includes('\0')) throw new RuntimeError('invalid-argument', `tar ${what} "${name}" contains a NUL byte`);
    out.push(part);
  }
  return out.join('/');
}
