// The CLI's build cache (`<store>/cache`, cli/build-cache.ts): `berth run` keeps a component as
// transpiled and runs later ones from it; `berth serve` keeps the modules it meters; a damaged or
// hostile entry is not trusted over the image (it is made again, or a run of it fails as it would
// have); `system df` counts it and `system prune` empties it.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeTranspiled,
  encodeTranspiled,
  GLUE_VERSION,
  type TranspiledComponent,
} from '../../runtime/component/index.ts';
import { MODULE_CACHE } from '../../runtime/run/index.ts';
import { berth, listeningBerth } from './cli.ts';

const ECHO = fileURLToPath(new URL('../fixtures/components/echo.component.wasm', import.meta.url));
const HELLO = fileURLToPath(new URL('../../examples/hello-web-db/hello-web-db.wasm', import.meta.url));

const files = async (dir: string) =>
  (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.endsWith('.tmp'));

describe('the build cache of the CLI', { timeout: 120_000 }, () => {
  let dir: string;
  let store: string;
  let cache: string;
  let digest: string;
  const children: ChildProcess[] = [];
  // --store first: what follows `run IMAGE` goes to the program.
  const b = ([verb, ...rest]: string[], stdin?: string) => berth([verb!, '--store', store, ...rest], { stdin });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cache-'));
    store = join(dir, 'store');
    cache = join(store, 'cache');
    expect((await b(['pack', ECHO, '-t', 'localhost/t/echo:1'])).code).toBe(0);
    expect((await b(['pack', HELLO, '-t', 'localhost/t/hello:1'])).code).toBe(0);
    digest = JSON.parse((await b(['inspect', 'localhost/t/echo:1'])).stdout)[0].Id;
  });
  afterAll(() => {
    for (const c of children) c.kill();
  });

  /** The file berth keeps the echo image's transpiled component in. */
  const entryOf = async () => {
    const names = await files(join(cache, 'components'));
    expect(names).toHaveLength(1);
    const path = join(cache, 'components', names[0]!);
    // Named by the SHA-256 of its key: the bindgen, the variant, the image and its entrypoint.
    const entrypoint = JSON.parse((await b(['inspect', 'localhost/t/echo:1'])).stdout)[0].Config.Entrypoint[0];
    const key = `${GLUE_VERSION}:sync:${digest}:${entrypoint}`;
    expect(names[0]).toBe(createHash('sha256').update(key).digest('hex'));
    return path;
  };

  it('berth run keeps a component as transpiled, and runs the next run from it', async () => {
    const first = await b(['run', 'localhost/t/echo:1'], 'one\n');
    expect(first).toMatchObject({ code: 0, stdout: 'one\n' });
    const path = await entryOf();
    const kept = await decodeTranspiled(new Blob([await readFile(path)]), path);
    // The next run takes the kept glue: one that says where it came from shows it was used.
    const marked: TranspiledComponent = {
      ...kept,
      glue: kept.glue.replace(
        'export function instantiate(',
        'globalThis.process?.stderr.write("from the build cache\\n");\nexport function instantiate(',
      ),
    };
    expect(marked.glue).not.toBe(kept.glue);
    await writeFile(path, new Uint8Array(await (await encodeTranspiled(marked)).arrayBuffer()));
    const second = await b(['run', 'localhost/t/echo:1'], 'two\n');
    expect(second).toMatchObject({ code: 0, stdout: 'two\n' });
    expect(second.stderr).toContain('from the build cache');
  });

  it('makes a damaged entry again, and the run goes on', async () => {
    const path = await entryOf();
    const whole = await readFile(path);
    await writeFile(path, whole.subarray(0, whole.length - 1000));
    const r = await b(['run', 'localhost/t/echo:1'], 'three\n');
    expect(r).toMatchObject({ code: 0, stdout: 'three\n' });
    expect(r.stderr).not.toContain('from the build cache');
    // Written whole again from the image.
    const again = await readFile(path);
    expect(again.length).toBeGreaterThan(whole.length - 1000);
    expect((await decodeTranspiled(new Blob([again]), path)).glue).not.toContain('from the build cache');
  });

  // Damage that keeps every size: a byte of the glue, then a byte of a core module.
  it.each([
    ['glue', (body: Buffer) => body.indexOf('export function instantiate(') + 7],
    ['a core module', (body: Buffer) => body.length - 100],
  ])('tells damage to its %s from the entry, and makes it again', async (_what, at) => {
    const path = await entryOf();
    const whole = await readFile(path);
    const damaged = Buffer.from(whole);
    damaged[at(whole)] ^= 0x20;
    await writeFile(path, damaged);
    const r = await b(['run', 'localhost/t/echo:1'], 'five\n');
    expect(r).toMatchObject({ code: 0, stdout: 'five\n' });
    expect(await readFile(path)).toEqual(whole);
  });

  it('berth serve keeps the modules it meters, and a restarted server runs from them', async () => {
    expect((await b(['service', 'create', 'hello', 'localhost/t/hello:1'])).code).toBe(0);
    const dist = join(dir, 'dist');
    await mkdir(dist, { recursive: true });
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>berth</title>');
    const serve = async () => {
      const s = await listeningBerth(['serve', '--port', '0', '--dist', dist, '--store', store]);
      children.push(s.child);
      return s;
    };
    const one = await serve();
    expect(await (await fetch(`${one.url}svc/hello/`)).text()).toBe('hello from wasm, hits=1\n');
    const metered = join(cache, MODULE_CACHE, 'metered');
    const modules = await files(metered);
    expect(modules).toHaveLength(1);
    const bytes = await readFile(join(metered, modules[0]!));
    // As run: with the deadline checks (the tick import).
    expect(WebAssembly.Module.imports(new WebAssembly.Module(bytes)).map((i) => i.module)).toContain('berth_deadline');
    one.child.kill();

    // A hit writes nothing (a miss writes the file again, under a new inode).
    const kept = join(metered, modules[0]!);
    const before = await stat(kept);
    const two = await serve();
    expect(await (await fetch(`${two.url}svc/hello/`)).text()).toBe('hello from wasm, hits=1\n');
    expect(await files(metered)).toEqual(modules);
    expect((await stat(kept)).ino).toBe(before.ino);
    two.child.kill();

    // A damaged one is compiled again from the image, and kept whole again.
    await writeFile(kept, bytes.subarray(0, bytes.length >> 1));
    const three = await serve();
    expect(await (await fetch(`${three.url}svc/hello/`)).text()).toBe('hello from wasm, hits=1\n');
    expect(await readFile(kept)).toEqual(bytes);
    three.child.kill();
  });

  it('system df counts the cache; system prune empties it', async () => {
    const df = (await b(['system', 'df'])).stdout.split('\n');
    expect(df[3]).toMatch(/^Build Cache +[1-9]\d* +0 +[\d.]+[kM]B +[\d.]+[kM]B \(100%\)$/);
    const pruned = await b(['system', 'prune']);
    expect(pruned.stdout).toMatch(/, [\d.]+[kM]B of build cache\n$/);
    expect((await b(['system', 'df'])).stdout.split('\n')[3]).toMatch(/^Build Cache +0 +0 +0B +0B$/);
    expect(await files(join(cache, 'components'))).toEqual([]);
    // And it is made again by the next run.
    expect(await b(['run', 'localhost/t/echo:1'], 'four\n')).toMatchObject({ code: 0, stdout: 'four\n' });
    await entryOf();
  });
});
