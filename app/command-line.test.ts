import { describe, expect, it } from 'vitest';
import { formatCommandLine, parseCommandLine, quoteArg } from './command-line.ts';

describe('parseCommandLine', () => {
  it('splits on any run of whitespace and ignores it at both ends', () => {
    expect(parseCommandLine('  /app.wasm   a\tb\nc  ')).toEqual(['/app.wasm', 'a', 'b', 'c']);
    expect(parseCommandLine('')).toEqual([]);
    expect(parseCommandLine(' \t ')).toEqual([]);
  });

  it('keeps quoted whitespace and joins quoted and bare parts of one word', () => {
    expect(parseCommandLine(`echo 'a  b' "c d"`)).toEqual(['echo', 'a  b', 'c d']);
    expect(parseCommandLine(`pre"mid dle"post x`)).toEqual(['premid dlepost', 'x']);
    expect(parseCommandLine(`'it'"'"'s'`)).toEqual([`it's`]);
  });

  it('keeps empty quoted arguments', () => {
    expect(parseCommandLine(`a '' "" b`)).toEqual(['a', '', '', 'b']);
    expect(parseCommandLine(`''`)).toEqual(['']);
  });

  it('takes everything literally inside single quotes, backslashes too', () => {
    expect(parseCommandLine(String.raw`'a\nb' '\'`)).toEqual([String.raw`a\nb`, '\\']);
    expect(parseCommandLine(`'"'`)).toEqual(['"']);
  });

  it('inside double quotes, unescapes only \\" \\\\ \\$ and \\`', () => {
    expect(parseCommandLine(String.raw`"a\"b" "c\\d" "\$x" "\`" "\n"`)).toEqual(['a"b', 'c\\d', '$x', '`', '\\n']);
    expect(parseCommandLine(`"it's"`)).toEqual([`it's`]);
  });

  it('outside quotes, a backslash escapes the next character, whitespace and quotes included', () => {
    expect(parseCommandLine(String.raw`a\ b c\'d \"e\" \\`)).toEqual(['a b', `c'd`, '"e"', '\\']);
    expect(parseCommandLine('a\\\nb')).toEqual(['a\nb']);
  });

  it('keeps a backslash at the very end as a literal backslash', () => {
    expect(parseCommandLine('a\\')).toEqual(['a\\']);
    expect(parseCommandLine('a \\')).toEqual(['a', '\\']);
  });

  it('rejects an unterminated quote, naming it', () => {
    expect(() => parseCommandLine(`echo 'oops`)).toThrow(/unterminated ' quote/);
    expect(() => parseCommandLine(`echo "oops`)).toThrow(/unterminated " quote/);
    // An escaped closing quote does not close it.
    expect(() => parseCommandLine(String.raw`"a\"`)).toThrow(/unterminated " quote/);
    expect(() => parseCommandLine(`'a' "`)).toThrow(/unterminated/);
  });
});

describe('formatCommandLine', () => {
  it('leaves plain arguments bare and quotes the rest', () => {
    expect(quoteArg('/app.wasm')).toBe('/app.wasm');
    expect(quoteArg('--port=8080')).toBe('--port=8080');
    expect(quoteArg('a b')).toBe(`'a b'`);
    expect(quoteArg('')).toBe(`''`);
    expect(quoteArg(`it's`)).toBe(`'it'\\''s'`);
    expect(quoteArg('$HOME')).toBe(`'$HOME'`);
  });

  it('reads back as the same argv', () => {
    const cases = [
      ['/app.wasm', 'plain'],
      ['a b', '', `it's`, '"dq"', 'back\\slash', 'tab\there', 'new\nline', '$x `y`', `'`, '\\'],
      ['ünïcode', '日本語', 'emoji 🙂'],
      [],
    ];
    for (const argv of cases) expect(parseCommandLine(formatCommandLine(argv))).toEqual(argv);
  });
});
