// Path normalisation for tar entry names: strips a leading '/' and './', resolves '.' and
// empty components, and refuses a name whose '..' climbs above the layer root.
import { RuntimeError } from '../core/index.ts';

/** Linux's limits, which no file of a layer unpacked by docker can pass: a path's and a name's bytes. */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;

const utf8 = new TextEncoder();
/** UTF-8 bytes of `s` (a UTF-16 unit is at most 3 of them, so short strings need no encoding). */
const bytesOf = (s: string, under: number) => (s.length * 3 <= under ? s.length : utf8.encode(s).length);

/**
 * Returns the normalised relative path ('' for the root itself). A path past PATH_MAX once
 * normalised, or with a name past NAME_MAX (a whiteout's `.wh.` not counted: it deletes a name of
 * that length), is refused: Linux could not make it, and a hostile layer's path of 32,000 levels
 * made its packed index a gigabyte (every directory keeps its whole path).
 */
export function normalizeTarPath(name: string, what = 'entry'): string {
  const out: string[] = [];
  let bytes = -1;
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) {
        throw new RuntimeError('invalid-argument', `tar ${what} "${name}" escapes the layer root with '..'`);
      }
      bytes -= bytesOf(out.pop()!, NAME_MAX + 4) + 1;
      continue;
    }
    if (part.includes('\0')) throw new RuntimeError('invalid-argument', `tar ${what} "${name}" contains a NUL byte`);
    const size = bytesOf(part, NAME_MAX + 4);
    if (size > NAME_MAX + (part.startsWith('.wh.') ? 4 : 0))
      throw new RuntimeError(
        'invalid-argument',
        `tar ${what} "${name.slice(0, 64)}..." has a name longer than ${NAME_MAX} bytes`,
      );
    bytes += size + 1;
    if (bytes > PATH_MAX)
      throw new RuntimeError(
        'invalid-argument',
        `tar ${what} "${name.slice(0, 64)}..." is longer than ${PATH_MAX} bytes`,
      );
    out.push(part);
  }
  return out.join('/');
}
