// Two `berth run -v vol:/data` processes at once on one store: the volume's lock file serializes
// them, so no update is lost (issue 12: 20 runs each used to leave hits=10 instead of 40).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { berth } from './cli.ts';

const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));
const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const REF = 'localhost/test/counter:1';
const RUNS = 20;

describe('volume locks across berth processes', () => {
  let store: string;

  beforeAll(async () => {
    store = join(await mkdtemp(join(tmpdir(), 'berth-volume-lock-')), 'store');
    const packed = await berth(['pack', HELLO, '-t', REF, '--dir', '/data', '--store', store]);
    expect(packed.stderr).toBe('');
    expect(packed.code).toBe(0);
  }, 60_000);

  const hit = async (): Promise<number> => {
    const run = await berth(['run', '-v', 'vol:/data', '--store', store, REF], { stdin: REQUEST });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const m = /hello from wasm, hits=(\d+)/.exec(run.stdout);
    expect(m, run.stdout).not.toBeNull();
    return Number(m![1]);
  };

  it('two processes running 20 times each add exactly 40 hits', async () => {
    const before = await hit();
    const worker = async () => {
      const seen: number[] = [];
      for (let i = 0; i < RUNS; i++) seen.push(await hit());
      return seen;
    };
    const seen = (await Promise.all([worker(), worker()])).flat().sort((a, b) => a - b);
    // Every run saw a count no other run saw: 40 consecutive values after `before`.
    expect(seen).toEqual(Array.from({ length: 2 * RUNS }, (_, i) => before + 1 + i));
    expect(await hit()).toBe(before + 2 * RUNS + 1);
  }, 180_000);
});
