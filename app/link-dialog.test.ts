// What the page shows of text an image, archive or link chose (a link's dialog, the files view): a name with bidirectional controls or zero-width marks
// could read as another (`nginx:latest` with U+202E and U+2066 after it), and a very long one could
// push the row's warnings out of sight.
import { describe, expect, it } from 'vitest';
import { visible } from './dom.ts';

describe('visible', () => {
  it('writes out characters that reorder or hide text', () => {
    expect(visible('docker.io/library/nginx:latest\u202e\u2066')).toBe(
      'docker.io/library/nginx:latest\\u{202e}\\u{2066}',
    );
    expect(visible('a\u200bb\u200fc\u061cd\ufeffe\u2028f')).toBe('a\\u{200b}b\\u{200f}c\\u{61c}d\\u{feff}e\\u{2028}f');
    expect(visible('tab\there\nnul\u0000')).toBe('tab\\u{9}here\\u{a}nul\\u{0}');
    expect(visible('ünïcödé 漢字 registry.example:5000/a/b')).toBe('ünïcödé 漢字 registry.example:5000/a/b');
  });

  it('cuts text past 300 characters and says how long it was', () => {
    const long = `x/${'a'.repeat(5000)}`;
    const shown = visible(long);
    expect(shown.length).toBeLessThan(340);
    expect(shown).toMatch(/… \(5002 characters\)$/);
  });
});
