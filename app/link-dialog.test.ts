// What the page shows of text an image, archive or link chose (a link's dialog, the files view): a name with bidirectional controls or zero-width marks
// could read as another (`nginx:latest` with U+202E and U+2066 after it), and a very long one could
// push the row's warnings out of sight.
import { describe, expect, it } from 'vitest';
import { visible, writtenOut } from './dom.ts';

describe('visible', () => {
  it('writes out characters that reorder or hide text', () => {
    expect(visible('docker.io/library/nginx:latest\u202e\u2066')).toBe(
      'docker.io/library/nginx:latest\\u{202e}\\u{2066}',
    );
    expect(visible('a\u200bb\u200fc\u061cd\ufeffe\u2028f')).toBe('a\\u{200b}b\\u{200f}c\\u{61c}d\\u{feff}e\\u{2028}f');
    expect(visible('tab\there\nnul\u0000')).toBe('tab\\u{9}here\\u{a}nul\\u{0}');
    expect(visible('ünïcödé 漢字 registry.example:5000/a/b')).toBe('ünïcödé 漢字 registry.example:5000/a/b');
  });

  // From a review by attack: a list of ranges let 20 of 22 such characters through.
  it('writes out every default-ignorable, format and blank character, and doubles a backslash', () => {
    const hidden = [
      0xad, 0x34f, 0x115f, 0x1160, 0x3164, 0xffa0, 0x180e, 0x180b, 0x17b4, 0x206a, 0x206f, 0xfe0f, 0xe0100, 0xfff9,
      0xfffb, 0xe0001, 0xe0020, 0xe007f, 0x1d173, 0x2800, 0x202e, 0x2066,
    ];
    for (const cp of hidden)
      expect(visible(`a${String.fromCodePoint(cp)}b`), cp.toString(16)).toBe(`a\\u{${cp.toString(16)}}b`);
    expect(visible('x\ud800y')).toBe('x\\u{d800}y');
    // `run.sh` and a name that would have shown as it.
    expect(visible('run\u034f.sh\u{e0020}')).not.toBe(visible('run.sh'));
    // A name that spells the written-out form of another is told from it.
    expect(visible('a\\u{202e}b')).toBe('a\\\\u{202e}b');
    expect(visible('a\\u{202e}b')).not.toBe(visible('a\u202eb'));
    // Letters, marks and emoji of any script stay as they are.
    expect(visible('café ñ 日本 👍🏽 e\u0301')).toBe('café ñ 日本 👍🏽 e\u0301');
  });

  it('cuts text past 300 characters and says how long it was', () => {
    const long = `x/${'a'.repeat(5000)}`;
    const shown = visible(long);
    expect(shown.length).toBeLessThan(340);
    expect(shown).toMatch(/… \(5002 characters\)$/);
  });
});

describe('writtenOut', () => {
  it('writes out the same characters in a message, but keeps its line breaks and tabs and is never cut', () => {
    const m = `tar entry "report\u202etxt.exe" escapes\n\tat ${'x'.repeat(500)}`;
    expect(writtenOut(m)).toBe(`tar entry "report\\u{202e}txt.exe" escapes\n\tat ${'x'.repeat(500)}`);
  });
});
