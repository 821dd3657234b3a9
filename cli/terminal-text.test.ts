import { describe, expect, it } from 'vitest';
import { terminalText } from './terminal-text.ts';

describe('terminalText', () => {
  it('writes out what would drive a terminal, and keeps lines and tabs unless asked for one line', () => {
    const hostile = 'a\u001b]52;c;cHduZWQ=\u0007\u001b[2J\u009bX\u007fb\n\tc';
    expect(terminalText(hostile)).toBe('a\\u001b]52;c;cHduZWQ=\\u0007\\u001b[2J\\u009bX\\u007fb\n\tc');
    expect(terminalText(hostile, true)).toBe('a\\u001b]52;c;cHduZWQ=\\u0007\\u001b[2J\\u009bX\\u007fb\\u000a\\u0009c');
    expect(terminalText('plain ünï 漢字')).toBe('plain ünï 漢字');
  });
});

// From a review by attack: a registry's error message, a config's history and a service's stderr
// were printed raw, so a hostile one could clear the screen, set the title or write the clipboard.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth } from './berth.ts';
import { table } from './image-format.ts';

const P = '\u001b]52;c;cHduZWQ=\u0007\u001b[2J\u001b[1Auser@host:~$ ';
/** Whether `text` holds an ESC or a BEL as it is. */
const raw = (text: string) => text.includes('\u001b') || text.includes('\u0007');

describe('what berth prints of hostile text', () => {
  it("a registry's error message", async () => {
    const server = createServer((_req, res) =>
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: `MANIFEST_UNKNOWN${P}`, message: P }] })),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      let err = '';
      const code = await berth(['pull', '-q', `${host}/x:1`, '--store', await mkdtemp(join(tmpdir(), 'berth-tt-'))], {
        stdout: () => {},
        stderr: (t) => (err += t),
      });
      expect(code).not.toBe(0);
      expect(err).toContain('MANIFEST_UNKNOWN\\u001b]52;c;cHduZWQ=\\u0007');
      expect(raw(err)).toBe(false);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a table cell (history, images, services): one line, nothing raw', () => {
    const out = table([
      ['CREATED BY', 'SIZE'],
      [`/bin/sh -c ${P}\nfake line`, '1kB'],
    ]);
    expect(raw(out)).toBe(false);
    expect(out.split('\n')).toHaveLength(2);
  });
});
