import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../runtime/core/index.ts';
import { formatEnvLines, formatVolumes, parseEnvLines, parseVolumes } from './service-fields.ts';

function errorOf(fn: () => unknown): RuntimeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RuntimeError) return e;
    throw e;
  }
  throw new Error('expected a RuntimeError');
}

describe('parseVolumes', () => {
  it('reads comma-separated NAME:/path entries, trimming and skipping empty ones', () => {
    expect(parseVolumes(' data:/data ,cache:/var/cache,, ')).toEqual([
      { name: 'data', path: '/data' },
      { name: 'cache', path: '/var/cache' },
    ]);
    expect(parseVolumes('')).toEqual([]);
    expect(parseVolumes(' , ')).toEqual([]);
  });

  it('splits at the first colon: the path may hold more', () => {
    expect(parseVolumes('v:/a:b')).toEqual([{ name: 'v', path: '/a:b' }]);
  });

  it.each([
    ['data', 'no colon'],
    [':/data', 'no name'],
    ['data:data', 'a relative path'],
    ['data:', 'no path'],
    ['data: /data', 'a space before the path'],
  ])('rejects %j (%s) as invalid-argument, quoting the entry', (text) => {
    const e = errorOf(() => parseVolumes(`ok:/ok, ${text}`));
    expect(e.code).toBe('invalid-argument');
    expect(e.message).toContain(JSON.stringify(text.trim()));
    expect(e.message).toContain('NAME:/absolute/path');
  });

  it('round-trips through formatVolumes', () => {
    const volumes = [
      { name: 'a', path: '/x' },
      { name: 'b-2', path: '/y/z' },
    ];
    expect(formatVolumes(volumes)).toBe('a:/x, b-2:/y/z');
    expect(parseVolumes(formatVolumes(volumes))).toEqual(volumes);
    expect(formatVolumes([])).toBe('');
  });
});

describe('parseEnvLines', () => {
  it('reads NAME=value lines, splitting at the first =', () => {
    expect(parseEnvLines('A=1\nB=x=y\nEMPTY=\n')).toEqual({ A: '1', B: 'x=y', EMPTY: '' });
  });

  it('ignores blank lines and surrounding whitespace, CRLF line ends too', () => {
    expect(parseEnvLines('\r\n  A=1  \r\n\r\n\tB=two words\r\n')).toEqual({ A: '1', B: 'two words' });
  });

  it('keeps the last of repeated names', () => {
    expect(parseEnvLines('A=1\nA=2')).toEqual({ A: '2' });
  });

  it('is undefined when there is nothing', () => {
    expect(parseEnvLines('')).toBeUndefined();
    expect(parseEnvLines(' \n\n ')).toBeUndefined();
  });

  it.each([['NOVALUE'], ['=value'], [' =x']])('rejects %j as invalid-argument', (line) => {
    const e = errorOf(() => parseEnvLines(`OK=1\n${line}`));
    expect(e.code).toBe('invalid-argument');
    expect(e.message).toContain(JSON.stringify(line.trim()));
  });

  it('round-trips through formatEnvLines', () => {
    const env = { A: '1', PATH: '/bin:/usr/bin', EQ: 'a=b' };
    expect(formatEnvLines(env)).toBe('A=1\nPATH=/bin:/usr/bin\nEQ=a=b');
    expect(parseEnvLines(formatEnvLines(env))).toEqual(env);
    expect(formatEnvLines(undefined)).toBe('');
  });
});
