// A program's files live in memory (its writable layer, its volumes, `-v /path` ones), so what they
// hold is limited, as a tmpfs's size= is: `berth run --files MiB` (1 GiB by default), a service's
// limits.filesBytes (256 MiB). Tried by attack with tests/fixtures/wasi/fill.c, a program that
// writes until a write fails in each way the count must see: before the limit, one file of 4 GiB
// took `berth run` to 6.3 GB of memory. Each run here ends with ENOSPC near the limit; what must
// come back does (a file written and deleted ten times over), and the image's own file is untouched.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { berth } from './cli.ts';

const FILL = fileURLToPath(new URL('../fixtures/wasi/fill.wasm', import.meta.url));
const IMAGE = 'localhost/t/fill:1';

describe("berth run: what a program's files may hold in memory", { timeout: 120_000 }, () => {
  let store: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-files-'));
    store = join(dir, 'store');
    await writeFile(join(dir, 'big.bin'), randomBytes(24 * 2 ** 20));
    const packed = await berth([
      'pack',
      FILL,
      '-t',
      IMAGE,
      '--dir',
      '/spool',
      '--add',
      `${join(dir, 'big.bin')}:/big.bin`,
      '--store',
      store,
    ]);
    expect(packed.code, packed.stderr).toBe(0);
  });
  const run = (args: string[]) => berth(['run', '--store', store, ...args]);

  it('a file written without end meets ENOSPC at the limit; the program goes on and exits', async () => {
    const r = await run(['--files', '32', IMAGE, 'fill', '/spool/a']);
    expect(r.stdout).toMatch(/^wrote (2[89]|3[01]) MiB: ENOSPC\n$/);
    expect(r.code).toBe(0);
  });

  it('a file whose name is gone still counts while it is open, and reads back whole', async () => {
    const r = await run(['--files', '32', IMAGE, 'unlinked', '/spool/b']);
    expect(r.stdout).toMatch(/^wrote (2[89]|3[01]) MiB: ENOSPC\nreadback ok\n$/);
  });

  it('what a deleted file held comes back: 10 x 20 MiB written and deleted within 32 MiB', async () => {
    const r = await run(['--files', '32', IMAGE, 'churn', '/spool/c', '10', '20']);
    expect(r.stdout).toBe('churned 10 x 20 MiB: OK\n');
  });

  it('names and nodes count too: empty files with long names run out', async () => {
    const r = await run(['--files', '4', IMAGE, 'files', '/spool']);
    const made = Number(/^made (\d+) files: ENOSPC\n$/.exec(r.stdout)?.[1]);
    expect(made).toBeGreaterThan(4000);
    expect(made).toBeLessThan(10_000);
  });

  it("a copy-up counts the image's file whole: 24 MiB do not fit in 16, and fit in 32", async () => {
    expect((await run(['--files', '16', IMAGE, 'append', '/big.bin'])).stdout).toBe('appended: ENOSPC\n');
    expect((await run(['--files', '32', IMAGE, 'append', '/big.bin'])).stdout).toBe('appended: OK\n');
    // Each run starts from the image again: the copy the last run made is gone with it.
    expect((await run(['--files', '16', IMAGE, 'append', '/big.bin'])).stdout).toBe('appended: ENOSPC\n');
  });

  it('a fresh -v /path volume counts against the same limit', async () => {
    const r = await run(['--files', '32', '-v', '/scratch', IMAGE, 'fill', '/scratch/a']);
    expect(r.stdout).toMatch(/^wrote (2[89]|3[01]) MiB: ENOSPC\n$/);
  });

  it('refuses a limit that is no size', async () => {
    const r = await run(['--files', 'lots', IMAGE, 'fill', '/spool/a']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--files lots: MiB, from 1 to 1048576');
  });
});
