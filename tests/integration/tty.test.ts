// docker's -t: with it the program's standard streams are a terminal (isatty) and TERM is set;
// without it they are pipes, whatever berth's own streams are. `berth exec` passes berth's own
// streams through, so it says what they are (pipes here).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { berth } from './cli.ts';

const ISATTY = fileURLToPath(new URL('../fixtures/wasi/isatty.wasm', import.meta.url));

describe('run -t', () => {
  let store: string;
  // --store before the image: after it, everything is the program's.
  const b = ([verb, ...rest]: string[]) => berth([verb, '--store', store, ...rest]);
  beforeAll(async () => {
    store = join(await mkdtemp(join(tmpdir(), 'berth-tty-')), 'store');
    expect((await b(['pack', ISATTY, '-t', 'localhost/t/isatty:1'])).code).toBe(0);
    expect((await b(['pack', ISATTY, '-t', 'localhost/t/isatty-term:1', '-e', 'TERM=screen'])).code).toBe(0);
  });

  it('gives pipes without -t and a terminal with it', async () => {
    expect((await b(['run', 'localhost/t/isatty:1'])).stdout).toBe('stdin=0 stdout=0 stderr=0 TERM=(unset)\n');
    expect((await b(['run', '-t', 'localhost/t/isatty:1'])).stdout).toBe('stdin=1 stdout=1 stderr=1 TERM=xterm\n');
    expect((await b(['run', '-it', '-e', 'TERM=vt100', 'localhost/t/isatty:1'])).stdout).toBe(
      'stdin=1 stdout=1 stderr=1 TERM=vt100\n',
    );
    expect((await b(['run', '-t', 'localhost/t/isatty-term:1'])).stdout).toContain('TERM=screen\n');
  });

  it("exec says what berth's own streams are", async () => {
    expect((await berth(['exec', ISATTY])).stdout).toBe('stdin=0 stdout=0 stderr=0 TERM=(unset)\n');
  });
});
